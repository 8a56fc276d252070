"""From tagged spans to events: linking arguments to triggers (``linking``), the REASON
clause rule (``reasons``), event-level consistency (``consistency``) and the trigger
verifier (``verifier``).  Sentence splitting is :mod:`pipeline.text`."""
