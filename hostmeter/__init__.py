"""hostmeter: usage reporting for hosting service providers."""
