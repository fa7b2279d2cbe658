"""SLA state changes, by sub-domain; import from the submodules:

- `clocks`: the hooks the inbox calls as conversations change;
- `scan`: the periodic scan that records warnings and breaches;
- `escalation`: what a breach does to the conversation;
- `holidays`: holidays imported from iCalendar files;
- `policies`: policies set up from code (the demo's default policy).
"""
