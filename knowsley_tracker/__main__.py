from knowsley_tracker.cli import main

main()
