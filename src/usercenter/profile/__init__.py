"""What a person tells the business about themselves (seeds 000 §1.1, §1.6, §1.9, §1.10; 001
user_extra, user_location; 003 users_extends; 004 §1.2, §1.3): regions, addresses, real-name
verification, the payment password, device and location, consents, extension fields."""
