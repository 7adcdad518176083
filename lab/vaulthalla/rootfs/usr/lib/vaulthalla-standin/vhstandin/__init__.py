# LAB STAND-IN for Vaulthalla (vaultops.recovery lab): a Python imitation of the
# C++ daemon, the `vh` CLI and the web service, built from the public facts in
# shared/notes/product-facts.md. See lab/vaulthalla/README.md in the repository.
