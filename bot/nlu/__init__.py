"""Custom Rasa NLU graph components (referenced from config.yml as ``bot.nlu.<module>.<Class>``)."""
