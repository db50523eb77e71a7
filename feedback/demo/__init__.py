"""A year of follow-up activity for the demo (``make run``), made by the real services.

``cast`` decides who the clients are and how they behave, ``texts`` holds what they write,
``simulation`` walks day by day through the past year with an injected clock: caseworkers
register closures, the scheduler hands waves over, the real dispatcher "sends" through an
in-process gateway, clients reply through the real inbound path, caseworkers work the phone
queue and close cases. Nothing is written around the services, so the demo shows what the
system really does (and breaks when the system does).
"""
