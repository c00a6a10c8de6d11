#!/usr/bin/python3
"""Independent reference for the volume loaders (VolumeLoaderTest): reads a NIfTI / MGZ
file with nibabel, takes the first volume, and writes it as float32 [S,H,W] in EIView's
canonical orientation (core/io/VolumeLoader.h: reorientToCanonical), derived here from
nibabel's RAS+ canonical array rather than from our direction-matrix code.
Prints {"plane": ..., "shape": [S,H,W]} as JSON.
usage: nibabel_reference.py IN OUT.npy"""
import json
import sys

import nibabel as nib
import numpy as np

img = nib.load(sys.argv[1])
data = img.get_fdata(dtype=np.float64)
while data.ndim > 3:
    data = data[..., 0]
if data.ndim == 2:
    data = data[:, :, None]
affine = img.affine
# The plane is named by the stored third axis' nearest patient axis (RAS index 0/1/2).
slice_axis = int(np.argmax(np.abs(affine[:3, 2])))
canon = nib.as_closest_canonical(nib.Nifti1Image(data.astype(np.float32), affine))
ras = np.asarray(canon.dataobj, dtype=np.float32)
if slice_axis == 2:  # axial: columns R->L, rows A->P, slices I->S
    plane, out = "axial", np.transpose(ras[::-1, ::-1, :], (2, 1, 0))
elif slice_axis == 1:  # coronal: columns R->L, rows S->I, slices A->P
    plane, out = "coronal", np.transpose(ras[::-1, ::-1, ::-1], (1, 2, 0))
else:  # sagittal: columns A->P, rows S->I, slices R->L
    plane, out = "sagittal", np.transpose(ras[::-1, ::-1, ::-1], (0, 2, 1))
out = np.ascontiguousarray(out, dtype=np.float32)
np.save(sys.argv[2], out)
print(json.dumps({"plane": plane, "shape": list(out.shape)}))
