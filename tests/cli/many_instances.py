# Writes COUNT copies of a DICOM file, each a new instance of one new series and study
# (new UIDs), into OUT: a study large enough that an import of it takes seconds.
#   many_instances.py SOURCE.dcm OUT COUNT
import os
import sys

import pydicom
from pydicom.uid import generate_uid

source, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(out, exist_ok=True)
ds = pydicom.dcmread(source)
ds.StudyInstanceUID = generate_uid()
ds.SeriesInstanceUID = generate_uid()
for i in range(count):
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.InstanceNumber = i + 1
    ds.save_as(os.path.join(out, "%05d.dcm" % i))
