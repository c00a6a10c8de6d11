// Help > About: the program's version, the versions of the libraries it was built with
// (LibTorch, Qt, DCMTK, ITK, OpenCV), the compute device found, and the loaded model's
// intended use. "Copy details" puts the same facts on the clipboard for a support request.
#pragma once

#include <QDialog>
#include <QString>

class QLabel;

namespace ei {

class AboutDialog : public QDialog {
    Q_OBJECT
public:
    explicit AboutDialog(QWidget* parent = nullptr);

    // The open model's file name, its intended-use text (from the .eimodel metadata) and
    // where it runs ("CPU, fp32"); empty strings say that no model is open.
    void setModel(const QString& modelName, const QString& intendedUse, const QString& runsOn = QString());

    // Everything the dialog shows, as plain text (what "Copy details" copies).
    QString detailsText() const;

private:
    void copyDetails();

    QLabel* modelLabel_ = nullptr;
    QString modelName_;
    QString intendedUse_;
    QString runsOn_;
};

}  // namespace ei
