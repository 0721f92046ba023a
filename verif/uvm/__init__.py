"""pyuvm environment of the engine (see :mod:`verif.uvm.env`)."""
