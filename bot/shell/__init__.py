"""The staff shell: a terminal client for the guarded REST channel (``make shell``).

Rasa's own ``rasa shell`` talks to its ``cmdline`` connector, which skips the channel guard
(``bot.channels``): staff testing there never saw the cleaning, the bad-input replies or the
"Rasa sent nothing" guarantee carers get. This client posts to ``/webhooks/rest/webhook`` like any
carer-facing bridge, so staff see exactly what carers see; ``--explain`` adds, for staff only,
why each reply was chosen (read from Rasa's HTTP API, never sent to a carer's channel).

* ``bot.shell.client`` — the HTTP calls (webhook, tracker);
* ``bot.shell.render`` — turning replies and parse data into terminal text (pure);
* ``bot.shell.session`` — the read–send–print loop and the command line.
"""
