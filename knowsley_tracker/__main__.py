from knowsley_tracker.entry import main

main()
