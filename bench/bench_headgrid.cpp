// Redraw time of the head-survival grid for a BERT-large shape (24 layers x 16 heads): the
// figure is rebuilt from its numbers and replotted, as the view does when a run writes a round.
// Prints {"layers", "heads", "panels", "draw_ms", "replot_ms", "total_ms"} (medians).

#include <QApplication>
#include <QElapsedTimer>

#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

#include "plots/qcp.h"

#include "plots/figures_p.h"

int main(int argc, char **argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const int layers = 24, heads = 16, repeats = 50;
    std::mt19937 rng(1);
    std::uniform_int_distribution<int> keep(0, 256);
    for (int panels : {1, 4}) {
        tl::ui::Figure fig;
        fig.title = QStringLiteral("Attention-head survival");
        for (int p = 0; p < panels; ++p) {
            std::vector<tl::HeadSurvival> grid;
            for (int l = 0; l < layers; ++l)
                for (int h = 0; h < heads; ++h)
                    grid.push_back({l, h, 256, keep(rng)});
            fig.heatmaps.push_back(tl::ui::headSurvivalPanel(grid, QStringLiteral("run %1").arg(p), 0.5));
        }
        QCustomPlot plot;
        plot.resize(1200, 800);
        plot.show(); // a visible widget, as in the app
        QApplication::processEvents();
        std::vector<double> draw, replot;
        for (int i = 0; i < repeats; ++i) {
            QElapsedTimer t;
            t.start();
            tl::ui::drawFigure(&plot, fig);
            const double d = double(t.nsecsElapsed()) / 1e6;
            t.restart();
            plot.replot(QCustomPlot::rpImmediateRefresh);
            replot.push_back(double(t.nsecsElapsed()) / 1e6);
            draw.push_back(d);
        }
        auto median = [](std::vector<double> v) {
            std::sort(v.begin(), v.end());
            return v[v.size() / 2];
        };
        std::printf("{\"layers\": %d, \"heads\": %d, \"panels\": %d, \"draw_ms\": %.2f, \"replot_ms\": %.2f, "
                    "\"total_ms\": %.2f}\n",
                    layers, heads, panels, median(draw), median(replot), median(draw) + median(replot));
    }
    return 0;
}
