"""双告知 (先照后证): a new business licence reaches the departments that must follow it up.

- ``routing.yaml``, ``rules``: the routing rules, as data (permit, department, phrases);
- ``scope``, ``matcher``: a business scope (经营范围) as really written, and what it calls for;
- ``notices``: the Notice records (routed, claimed), on their own stream `notices`;
- ``router``, ``state``: `govgate notices run` reading `certificates`, appending notices;
- ``tracker``: each notice's claim clock, kept by the e-supervision subscriber's parts, with
  yellow and red cards on `supervision-alerts` and the figures of the monthly bulletin;
- ``claims``: a department's claim (认领), first one wins, put on the log by the gateway.
"""
