#pragma once

#include <QDialog>
#include <QJsonObject>
#include <QStringList>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTableWidget;

namespace tl::ui {

/// A form over a study file (core/study/study.h): name, model, tasks picked from folders (the
/// task named after a GLUE folder, editable), seeds, baselines as check boxes, transfer, the
/// ticket criterion, and the run settings every run shares, edited in the new-run dialog's
/// form. Load and save JSON; validation is the study parser's own, naming the field.
class StudyDialog : public QDialog
{
    Q_OBJECT

public:
    explicit StudyDialog(QWidget *parent = nullptr);

    /// The study as the form shows it (absolute paths); fields the form does not show
    /// (train_per_task, metric, ...) are kept from the file it was loaded from.
    QJsonObject study() const;
    /// Fills the form; relative paths are taken against baseDir (the study file's folder).
    void setStudy(const QJsonObject &study, const QString &baseDir = {});
    bool loadStudy(const QString &path, QString *error);
    /// Writes study() to path (pretty JSON) and remembers it as the study's file.
    bool saveStudy(const QString &path, QString *error);
    /// Problems that stop the study, each naming its field; empty when it can run.
    QStringList validate() const;

    /// Adds a task folder: a GLUE task's folder (task named after it), else each GLUE task
    /// folder inside it, else the folder with an empty task to type. Returns the rows added.
    int addTaskFolder(const QString &dir);
    /// prune, rewind, head, train, threads, device: shared by every run of the study.
    QJsonObject runSettings() const { return m_runSettings; }
    void setRunSettings(const QJsonObject &settings);
    /// Opens the new-run dialog's form on the run settings (presets included) and takes them back.
    void editRunSettings();

    /// The file the study was loaded from or saved to ("" for a new one).
    QString studyPath() const { return m_path; }
    QTableWidget *taskTable() const { return m_tasks; }

    /// Validates, then saves to studyPath() (asking for a file when there is none).
    void accept() override;

protected:
    void keyPressEvent(QKeyEvent *event) override;

private:
    void addTaskRow(const QString &task, const QString &dir);
    void updateEnabled();
    void updateSummary();
    void showProblems();

    QLineEdit *m_name = nullptr, *m_model = nullptr, *m_seeds = nullptr, *m_from = nullptr, *m_to = nullptr;
    QTableWidget *m_tasks = nullptr;
    QList<QCheckBox *> m_baselines;
    QComboBox *m_transfer = nullptr, *m_criterion = nullptr;
    QDoubleSpinBox *m_transferSparsity = nullptr;
    QSpinBox *m_transferRound = nullptr;
    QLabel *m_summary = nullptr, *m_problems = nullptr;
    QJsonObject m_runSettings, m_extra;
    QString m_path;
};

} // namespace tl::ui
