"""One module per dvc.yaml stage: ``stage(params)`` does the work, ``main()`` is its command.

No stage imports another; what they share lives in the library modules one level up.
"""
