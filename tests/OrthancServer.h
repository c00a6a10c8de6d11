// A real PACS for the network tests: Debian's Orthanc, started as a child process on free
// loopback ports with a configuration generated in a temporary folder (its database and
// storage live there too), stopped when the object goes. EIView is registered in it as
// the modality EIVIEW at 127.0.0.1:receiverPort, so C-MOVE has a destination; its HTTP
// side (DICOMweb) wants the login httpUser().
#pragma once

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>

#include "tests/LoopbackPorts.h"


namespace ei::test {

class OrthancServer {
public:
    int dicomPort = 0, httpPort = 0, receiverPort = 0;

    ~OrthancServer() { stop(); }

    // Empty on success, else why Orthanc did not come up. With tls, its DICOM port speaks
    // only DICOM over TLS and wants a client certificate: certificates made by openssl in
    // the temporary folder (tlsFile("orthanc.crt"), tlsFile("eiview.crt"/"eiview.key")).
    QString start(bool tls = false)
    {
        if (!dir_.isValid())
            return "no temporary folder";
        QString tlsConfig;
        if (tls) {
            for (const QString& name : {QStringLiteral("orthanc"), QStringLiteral("eiview")}) {
                QProcess openssl;
                openssl.start("openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + name,
                                          "-keyout", tlsFile(name + ".key"), "-out", tlsFile(name + ".crt")});
                if (!openssl.waitForFinished(60000) || openssl.exitCode() != 0)
                    return "openssl could not make a test certificate";
            }
            QFile trusted(tlsFile("trusted.crt"));
            if (!trusted.open(QIODevice::WriteOnly))
                return "cannot write the trusted certificates";
            for (const QString& name : {QStringLiteral("orthanc.crt"), QStringLiteral("eiview.crt")}) {
                QFile f(tlsFile(name));
                f.open(QIODevice::ReadOnly);
                trusted.write(f.readAll());
            }
            trusted.close();
            tlsConfig = QString(R"("DicomTlsEnabled": true, "DicomTlsCertificate": "%1", "DicomTlsPrivateKey": "%2",
  "DicomTlsTrustedCertificates": "%3", "DicomTlsRemoteCertificateRequired": true,)")
                            .arg(tlsFile("orthanc.crt"), tlsFile("orthanc.key"), tlsFile("trusted.crt"));
        }
        dicomPort = freeLoopbackPort();
        httpPort = freeLoopbackPort();
        receiverPort = freeLoopbackPort();
        const QString storage = QDir(dir_.path()).filePath("storage");
        const QString config = QString(R"({
  "Name": "EIViewTestPACS", "StorageDirectory": "%1", "IndexDirectory": "%1",
  "HttpPort": %2, "DicomPort": %3, "DicomAet": "ORTHANC", "RemoteAccessAllowed": false,
  "AuthenticationEnabled": true, "RegisteredUsers": { "eiview": "s3cret" }, "DicomCheckCalledAet": true, "StorageCompression": false,
  "DicomModalities": { "eiview": ["EIVIEW", "127.0.0.1", %4] },
  "DicomScuTimeout": 5, "DicomAssociationCloseDelay": 0, %5
  "Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"],
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/" }
})")
                                   .arg(storage)
                                   .arg(httpPort)
                                   .arg(dicomPort)
                                   .arg(receiverPort)
                                   .arg(tlsConfig);
        QFile file(QDir(dir_.path()).filePath("orthanc.json"));
        if (!file.open(QIODevice::WriteOnly) || file.write(config.toUtf8()) < 0)
            return "cannot write the Orthanc configuration";
        file.close();
        process_.setProcessChannelMode(QProcess::MergedChannels);
        process_.setStandardOutputFile(QDir(dir_.path()).filePath("orthanc.log"));
        process_.start(program(), {file.fileName()});
        if (!process_.waitForStarted(10000))
            return "cannot start " + program() + " (scripts/setup.sh installs Debian's orthanc)";
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 30000) {
            if (process_.state() != QProcess::Running)
                return "Orthanc exited at start: " + log();
            if (acceptsConnections(dicomPort) && acceptsConnections(httpPort))
                return {};
            QThread::msleep(100);
        }
        return "Orthanc did not listen within 30 s: " + log();
    }

    void stop()
    {
        if (process_.state() == QProcess::NotRunning)
            return;
        process_.terminate();
        if (!process_.waitForFinished(10000)) {
            process_.kill();
            process_.waitForFinished(5000);
        }
    }

    QString node(const QString& aeTitle = "ORTHANC") const { return aeTitle + "@127.0.0.1:" + QString::number(dicomPort); }
    static QString httpUser() { return QStringLiteral("eiview:s3cret"); }  // DICOMweb needs this login
    QString dicomWebUrl() const { return "http://127.0.0.1:" + QString::number(httpPort) + "/dicom-web"; }
    QString log() const
    {
        QFile file(QDir(dir_.path()).filePath("orthanc.log"));
        return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll().right(2000)) : QString();
    }
    QString tlsFile(const QString& name) const { return QDir(dir_.path()).filePath(name); }
    static QString program() { return QStringLiteral("/usr/sbin/Orthanc"); }

private:
    QTemporaryDir dir_;
    QProcess process_;
};

}  // namespace ei::test
