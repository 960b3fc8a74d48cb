#pragma once

#include <QFutureWatcher>
#include <QWidget>

#include "plots/figure.h"

class QCustomPlot;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSlider;
class QTimer;

namespace tl::ui {

/// One figure as a view: a QCustomPlot with the controls that figure takes (round slider,
/// head threshold, matrix type) and Export. The figure is computed from the store on a worker
/// thread; requests that arrive while one is computing are coalesced, and redraws are
/// throttled, so the UI never waits on the database. A hidden panel (another tab) computes
/// nothing: it is marked stale and computes when it is shown, so that opening a large lab
/// costs one figure, not all of them.
class FigurePanel : public QWidget
{
    Q_OBJECT

public:
    FigurePanel(const QString &figureName, QWidget *parent = nullptr);
    ~FigurePanel() override;

    QString figureName() const { return m_name; }
    /// The database and selected runs (empty: the figure picks).
    void setSource(const QString &db, const QList<qint64> &runs);
    /// Recompute soon (the store changed).
    void refresh();
    const Figure &figure() const { return m_figure; }
    QCustomPlot *plot() const { return m_plot; }
    /// Opens a save dialog and writes the figure (PDF, SVG or PNG, CSV and LaTeX beside).
    void exportWithDialog();
    /// Milliseconds the last drawFigure + replot took.
    double lastDrawMs() const { return m_lastDrawMs; }
    /// Computes and draws the figure now, on this thread, if it is stale or was never computed
    /// (a hidden panel's): for exports of every figure.
    void ensureComputed();
    /// Figures computed so far (a hidden panel computes none).
    int computeCount() const { return m_computeCount; }

Q_SIGNALS:
    /// A figure was computed and drawn (or failed: error non-empty).
    void updated(const QString &error);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void schedule();
    void compute();
    void computed();
    void showFigure(Figure f);
    FigureRequest request() const;

    QString m_name, m_db;
    QList<qint64> m_runs;
    QCustomPlot *m_plot = nullptr;
    QSlider *m_round = nullptr;
    QLabel *m_roundLabel = nullptr;
    QDoubleSpinBox *m_threshold = nullptr;
    QComboBox *m_matrix = nullptr;
    QComboBox *m_analysis = nullptr; ///< sensitivity: which stored scan (0: the newest of the run's task)
    QComboBox *m_headMode = nullptr; ///< head-survival: fraction, relative, importance, structure
    QComboBox *m_xAxis = nullptr;    ///< metric-vs-sparsity: weights or heads
    QWidget *m_thresholdRow = nullptr;
    void refreshAnalyses();
    QLabel *m_status = nullptr;
    QTimer *m_throttle = nullptr;
    QFutureWatcher<Figure> m_watcher;
    QString m_lastError;
    bool m_pending = false;
    bool m_stale = false; ///< a computation was asked for while hidden
    int m_computeCount = 0;
    int m_maxRound = 0;
    Figure m_figure;
    double m_lastDrawMs = 0;
};

} // namespace tl::ui
