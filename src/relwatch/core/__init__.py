"""Cross-cutting pieces every stage uses: settings, database, logging."""
