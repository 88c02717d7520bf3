"""Staff review (``make review``): turn the questions the assistant could not answer into answers.

Reads the configured tracker store (masked already), queues typed messages that ended in "did
you mean…?" or the final fallback, got a 👎, or were answered with low confidence; groups similar
ones by sentence embeddings; and lets a staff member assign each group to an intent or specific
answer, mark it out of scope, skip it, or send it to the content owner as "needs a new answer".
Every text is confirmed or edited before it is saved. Crisis messages are never offered.

* ``bot.review.queue`` — reading the queue from the store (sender ids used only while reading);
* ``bot.review.groups`` — grouping by embeddings, and the three best guesses per group;
* ``bot.review.labels`` — what can be assigned, and the examples the training data already has;
* ``bot.review.checks`` — warnings for names, dates, places and offence details;
* ``bot.review.save`` — writing ``data/nlu/reviewed.yml`` and the content owner's list;
* ``bot.review.session`` — the questions asked in the terminal, and ``--list``.
"""
