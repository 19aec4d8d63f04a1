"""Turning results into what a person or a program reads: Rich tables (render), plain text for pipes
(plain), JSON views (jsonview) and CI outputs (cioutput). Used by cli/ and serving/, never by the core."""
