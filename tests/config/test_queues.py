"""Deadline sweeps, e-mail and webhook deliveries each have their own Celery queue, so that one
never waits behind another; the Procfile says which worker serves which."""

from pathlib import Path

import pytest

from accounts.tasks import deliver_notification_emails, relay_notification_emails
from config import celery_app

ROOT = Path(__file__).resolve().parents[2]


def queue_of(task_name: str) -> str:
    return celery_app.amqp.router.route({}, task_name)["queue"].name


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("core.tasks.enforce_deadlines", "deadlines"),
        ("accounts.tasks.deliver_notification_emails", "email"),
        ("accounts.tasks.relay_notification_emails", "email"),
        ("webhooks.tasks.deliver", "webhooks"),
    ],
)
def test_each_kind_of_work_goes_to_its_queue(task, queue):
    assert queue_of(task) == queue


def test_a_worker_started_without_queues_serves_them_all():
    assert set(celery_app.amqp.queues) == {"deadlines", "email", "webhooks"}


def test_the_procfile_serves_each_queue_and_runs_one_beat():
    commands = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )

    served = {
        queue
        for command in commands.values()
        if " worker " in f" {command} "
        for queue in command.split(" -Q ", 1)[1].split()[0].split(",")
    }
    assert served == {"deadlines", "email", "webhooks"}
    assert sum("--beat" in command.split() for command in commands.values()) == 1


@pytest.mark.parametrize("task", [deliver_notification_emails, relay_notification_emails])
def test_e_mail_tasks_acknowledge_late_and_are_taken_again_when_their_worker_is_lost(task):
    assert (task.acks_late, task.reject_on_worker_lost) == (True, True)
