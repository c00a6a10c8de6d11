# Reads EIView's DICOM results with pydicom (an independent reader): per file the SOP class,
# study, series, the SR content tree flattened to "/container/concept" -> value, the
# evidence, and for images the size, frames and source references (parametric maps: the
# float values, spacing and units too). JSON on stdout.
import json, sys
import pydicom

def walk(items, path, out):
    for item in items:
        name = item.ConceptNameCodeSequence[0].CodeMeaning if "ConceptNameCodeSequence" in item else ""
        key = path + "/" + name
        vt = item.ValueType
        if vt == "NUM":
            out[key] = float(item.MeasuredValueSequence[0].NumericValue)
        elif vt == "TEXT":
            out[key] = item.TextValue
        elif vt == "IMAGE":
            out.setdefault(key, []).append(item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID)
        if "ContentSequence" in item:
            walk(item.ContentSequence, key, out)

result = {}
for path in sys.argv[1:]:
    ds = pydicom.dcmread(path)
    entry = {"sop_class": ds.SOPClassUID, "study": ds.StudyInstanceUID, "series": ds.SeriesInstanceUID,
             "patient_id": str(ds.get("PatientID", ""))}
    if "ContentSequence" in ds:
        content = {}
        walk(ds.ContentSequence, "", content)
        entry["content"] = content
        entry["title"] = ds.ConceptNameCodeSequence[0].CodeMeaning
        entry["evidence"] = sorted(i.ReferencedSOPInstanceUID for s in ds.CurrentRequestedProcedureEvidenceSequence
                                   for r in s.ReferencedSeriesSequence for i in r.ReferencedSOPSequence)
    if "PixelData" in ds:
        entry["rows"], entry["columns"], entry["frames"] = ds.Rows, ds.Columns, int(ds.get("NumberOfFrames", 1))
        entry["pixel_bytes"] = len(ds.PixelData)
        entry["sources"] = [s.ReferencedSOPInstanceUID for s in ds.SourceImageSequence]
    if "FloatPixelData" in ds:
        import array
        values = array.array("f")
        values.frombytes(ds.FloatPixelData)
        entry["rows"], entry["columns"], entry["frames"] = ds.Rows, ds.Columns, int(ds.get("NumberOfFrames", 1))
        entry["floats"] = list(values)
        entry["pixel_spacing"] = [float(v) for v in ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing]
        mapping = ds.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
        entry["units"] = mapping.MeasurementUnitsCodeSequence[0].CodeValue
        entry["sources"] = [i.ReferencedSOPInstanceUID for d in ds.SharedFunctionalGroupsSequence[0].DerivationImageSequence
                            for i in d.SourceImageSequence]
    result[path] = entry
print(json.dumps(result, indent=1))
