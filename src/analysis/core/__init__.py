"""The ground floor: paths, configuration, atomic files, provenance, language, text, memo.

Nothing here knows about schools or models; every other layer may import from here.
"""
