"""The timeline writer of evidence requests: their events go on their dispute's timeline."""

from disputes.services.timeline import writer

write = writer("case.dispute")
