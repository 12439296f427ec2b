"""Tables, figures and text contexts built from the analyses bundle, one module per chapter
(``dmvo``, ``icass``, ``compare``, ``summary``, ``sensitivity``); what several chapters show
lives in ``common`` (formats, marks, plot adapters) and ``findings`` (shared conclusions)."""
