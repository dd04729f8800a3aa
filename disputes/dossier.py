"""The case dossier: one ZIP of a whole dispute, for its parties, the staff and arbitrators.

``manifest.json`` holds the dispute as its GET shows it to the reader, the milestone's frozen
terms (``contracts.terms``), every timeline event the reader may read, every evidence file with
its size, SHA-256 and ``path`` in the ZIP, and the message thread when it is the reader's; a
printable ``timeline.html`` says the same for people; each evidence file is stored at its
``path``, under the generated name it downloads under (``evidence/evidence-12.pdf``), never the
name it was uploaded with. What the reader may not see stays out, by the same selectors as the
pages: a party's dossier never holds an internal note, a staff member's does.

The manifest's hashes are those recorded when each file was uploaded, so a file that changed in
storage since shows as a mismatch instead of being quietly re-hashed.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import zipfile
from dataclasses import dataclass

from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone

from contracts.models import MilestoneTerms

from . import selectors
from .models import Dispute, Evidence, TimelineEvent
from .serializers import DisputeMessageSerializer, DisputeSerializer, TimelineEventSerializer

KIND_LABELS = dict(TimelineEvent.Kind.choices)
# Built in memory up to this size, then on disk.
SPOOL_BYTES = 8 * 1024 * 1024


def evidence_path(evidence: Evidence) -> str:
    """Where a file is in the ZIP: a generated name, never the uploader's."""
    return f"evidence/{evidence.download_name}"


@dataclass
class Dossier:
    filename: str
    file: tempfile.SpooledTemporaryFile
    events: list[TimelineEvent]
    evidence: list[Evidence]
    messages: int


def dossier_build(*, dispute: Dispute, request, now: dt.datetime) -> Dossier:
    """Write the dossier of ``dispute`` as ``request.user`` may read it (see the module
    docstring); the caller records a staff member's read."""
    user = request.user
    refund = dispute.refund_request
    events = list(
        selectors.timeline_for_viewer(
            refund_request=refund, user=user, role=refund.contract.role_of(user)
        )
    )
    evidence = list(selectors.dispute_evidence(dispute=dispute))
    thread = list(selectors.dispute_messages(dispute=dispute)) if dispute.in_thread(user) else None
    terms = MilestoneTerms.objects.filter(milestone_id=dispute.milestone_id).first()
    manifest = {
        "dispute": DisputeSerializer(dispute, context={"request": request}).data,
        "milestone_terms": terms.as_shown() if terms is not None else None,
        "timeline": TimelineEventSerializer(events, many=True).data,
        "evidence": [
            {
                "id": item.pk,
                "name": item.name,
                "size": item.size,
                "sha256": item.sha256,
                "path": evidence_path(item),
            }
            for item in evidence
        ],
        "messages": None if thread is None else DisputeMessageSerializer(thread, many=True).data,
        "generated_at": now.isoformat().replace("+00:00", "Z"),
    }
    with timezone.override(dt.UTC):  # the printed times say UTC, whoever reads them
        html = render_to_string(
            "disputes/dossier_timeline.html",
            {
                "dispute": dispute,
                "refund": refund,
                "contract": refund.contract,
                "terms": terms,
                "events": [(KIND_LABELS.get(e.kind, e.kind), e) for e in events],
                "evidence": [(item, evidence_path(item)) for item in evidence],
                "thread": thread,
                "staff_copy": selectors.reads_as_staff(user, refund.contract),
                "now": now,
            },
        )
    # Handed to the response, which closes it once sent.
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    stamp = now.timetuple()[:6]
    with zipfile.ZipFile(spooled, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("manifest.json", stamp),
            json.dumps(manifest, indent=2, ensure_ascii=False, default=str),
            compress_type=zipfile.ZIP_DEFLATED,
        )
        archive.writestr(
            zipfile.ZipInfo("timeline.html", stamp), html, compress_type=zipfile.ZIP_DEFLATED
        )
        for item in evidence:
            info = zipfile.ZipInfo(evidence_path(item), stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            try:
                source = item.file.open("rb")
            except FileNotFoundError:
                raise Http404(f"{item} is no longer stored.") from None
            with source, archive.open(info, "w") as target:
                while chunk := source.read(1024 * 1024):
                    target.write(chunk)
    spooled.seek(0)
    return Dossier(
        filename=f"dossier-dispute-{dispute.pk}.zip",
        file=spooled,
        events=events,
        evidence=evidence,
        messages=len(thread or ()),
    )
