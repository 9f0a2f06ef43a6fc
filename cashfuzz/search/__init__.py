"""The search for a broken invariant: the gate, fuzz campaigns and HypoFuzz targets."""
