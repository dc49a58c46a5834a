"""The Slack front end: the Bolt app, what each listener does, and how results are posted."""
