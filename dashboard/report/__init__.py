"""The needs report (`siaga report`, CONTRACT §5.8): facts, build, data, render. No Flask here."""
