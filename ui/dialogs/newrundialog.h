#pragma once

#include <QDialog>
#include <QJsonObject>
#include <QStringList>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QLabel;
class QLayout;
class QLineEdit;
class QSpinBox;

namespace tl::ui {

/// Every run-spec field with its default, presets (the paper's settings, a quick demo), load
/// and save as JSON. Validation names the field: paths exist, the checkpoint's config.json and
/// weights are readable, the task is known, then the engine's own strict spec check.
class NewRunDialog : public QDialog
{
    Q_OBJECT

public:
    explicit NewRunDialog(QWidget *parent = nullptr);

    /// The spec as the form shows it (absolute paths).
    QJsonObject spec() const;
    /// Fills the form from a spec (fields absent keep their current values). Returns false
    /// with a message for JSON that is not a spec object.
    bool setSpec(const QJsonObject &spec, QString *error = nullptr);
    /// Problems that stop the run, each naming its field; empty when the spec can run.
    QStringList validate() const;
    void applyPreset(const QString &name);
    /// presetNames()[0] is the paper's; the first preset's tooltip says where its settings come from.
    static QStringList presetNames();
    static QString paperPresetNote();
    /// The tasks a run can train on, as the task boxes offer them: every known task, then mlm.
    static QStringList taskNames();
    /// Writes spec() to path (pretty JSON). False with a message on failure.
    bool saveSpec(const QString &path, QString *error) const;
    /// Where accept() saved the spec: the run queue runs this file.
    QString savedSpecPath() const { return m_savedPath; }
    /// Folder accept() saves specs in (default: beside the database, <db>.specs/).
    void setSpecFolder(const QString &folder) { m_specFolder = folder; }

    void accept() override;

    /// The GLUE task a data folder is named after ("glue/RTE", ".../sts-b": case-insensitive),
    /// or empty. The form sets its task from it until the user chooses a task.
    static QString glueTaskOfFolder(const QString &dir);

protected:
    void keyPressEvent(QKeyEvent *event) override;

private:
    QLayout *buildPresetRow();
    QWidget *buildExperimentGroup();
    QWidget *buildPruningGroup();
    QWidget *buildTrainingGroup();
    QDialogButtonBox *buildButtons();
    void connectForm();
    void updateEnabled();
    void showProblems();

    QLineEdit *m_model = nullptr, *m_dataDir = nullptr, *m_seeds = nullptr, *m_maskFile = nullptr;
    QComboBox *m_task = nullptr, *m_kind = nullptr, *m_method = nullptr, *m_schedule = nullptr, *m_stopBy = nullptr,
              *m_rewind = nullptr, *m_head = nullptr, *m_device = nullptr, *m_criterion = nullptr, *m_preset = nullptr;
    QDoubleSpinBox *m_step = nullptr, *m_target = nullptr, *m_lr = nullptr, *m_warmup = nullptr,
                   *m_weightDecay = nullptr;
    QSpinBox *m_rounds = nullptr, *m_rewindStep = nullptr, *m_epochs = nullptr, *m_maxSteps = nullptr,
             *m_batch = nullptr, *m_evalBatch = nullptr, *m_seqLen = nullptr, *m_threads = nullptr,
             *m_sourceRun = nullptr, *m_sourceRound = nullptr;
    QCheckBox *m_pooler = nullptr, *m_embeddings = nullptr;
    // early_bird (imp only): off unless checked
    QCheckBox *m_earlyBird = nullptr, *m_earlyBirdStop = nullptr;
    QDoubleSpinBox *m_earlyBirdEpsilon = nullptr;
    QSpinBox *m_earlyBirdWindow = nullptr, *m_earlyBirdEvery = nullptr;
    QLabel *m_problems = nullptr;
    QString m_savedPath, m_specFolder;
    bool m_taskSetByHand = false, m_fillingForm = false;
};

} // namespace tl::ui
