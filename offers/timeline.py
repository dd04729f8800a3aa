"""The timeline writer of offers: their events go on their dispute's timeline."""

from disputes.services.timeline import writer

write = writer("dispute")
