"""Freeze the terms of the milestones funded before terms were frozen at funding.

Milestones cannot be edited after they are created, so a funded milestone's terms now are its
terms at funding; they are frozen as of ``funded_at`` with the hash ``contracts.terms`` takes.
"""

from django.db import migrations


def freeze(apps, schema_editor):
    from contracts.terms import terms_fields, terms_sha256

    Milestone = apps.get_model("contracts", "Milestone")
    MilestoneTerms = apps.get_model("contracts", "MilestoneTerms")
    funded = (
        Milestone.objects.filter(funded_at__isnull=False, terms__isnull=True)
        .select_related("contract")
        .order_by("pk")
    )
    batch = []
    for milestone in funded.iterator(chunk_size=1000):
        values = {
            "title": milestone.title,
            "description": milestone.description,
            "amount": milestone.amount,
            "currency": milestone.contract.currency,
            "due_date": milestone.due_date,
            "frozen_at": milestone.funded_at,
        }
        batch.append(
            MilestoneTerms(
                milestone=milestone, sha256=terms_sha256(terms_fields(**values)), **values
            )
        )
        if len(batch) >= 1000:
            MilestoneTerms.objects.bulk_create(batch)
            batch = []
    MilestoneTerms.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0005_milestone_terms"),
    ]

    operations = [
        migrations.RunPython(freeze, migrations.RunPython.noop),
    ]
