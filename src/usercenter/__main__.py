from usercenter.cli import main

main()
