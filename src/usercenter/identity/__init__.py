"""Users and the ways they prove who they are: phone + SMS code, password, e-mail, username."""
