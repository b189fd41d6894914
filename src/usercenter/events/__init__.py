"""Events: a transactional outbox, its relay to RabbitMQ, and a pull feed (seed 002 §4.2.2,
§5.4.1).

A change that other services react to writes an event row in the same transaction as the
change (`Outbox.add` in a unit of work; `Outbox.append` inside a ledger batch), so the event
commits with it or not at all. Each event names its subject (`users/42`, `accounts/7`) and
carries the subject's next sequence number, taken from the subject's counter row under its
lock — two transactions changing one subject take their numbers in commit order.

The relay (`service.relay`), held by one process at a time through a lease row, gives each
committed event a feed position in commit order, publishes the events to the broker in that
order with publisher confirms, and moves its published mark only past what the broker
confirmed. The pull feed (`GET /v1/events`) reads the same positions.
"""
