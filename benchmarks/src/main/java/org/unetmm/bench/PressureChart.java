package org.unetmm.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CombinedRangeXYPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * {@code pressure.png}: one panel per distribution, side by side on one hit-rate axis. In each,
 * the TLB hit rate against the working set (log₂ pages), a line per policy (per TLB shape when
 * several are swept) with the policy's own colour and marker in every panel; OPT and the static
 * top-C bound as dashed reference lines (per TLB size; top-C only where the trace has one); a
 * vertical mark at each TLB size, its reach in pages. The caption names the commit and the date.
 */
final class PressureChart {
    private static final Map<String, Color> COLOURS = Map.of(
            "LRU", new Color(0x1f77b4), "CLOCK", new Color(0xff7f0e), "RANDOM", new Color(0x2ca02c),
            "SIEVE", new Color(0xd62728), "S3FIFO", new Color(0x9467bd), "LFU", new Color(0x8c564b));
    private static final Color OPT = Color.BLACK;
    private static final Color TOP_C = new Color(0x7f7f7f);
    private static final BasicStroke SOLID = new BasicStroke(2f);
    private static final BasicStroke DASHED = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
            new float[] {7f, 4f}, 0f);
    private static final BasicStroke DOTTED = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
            new float[] {2f, 4f, 8f, 4f}, 0f);

    private PressureChart() {
    }

    static void write(List<PressurePoint> points, Path file) throws IOException {
        Map<String, List<PressurePoint>> byDistribution = new LinkedHashMap<>();
        points.forEach(p -> byDistribution.computeIfAbsent(p.distribution(), d -> new ArrayList<>()).add(p));
        boolean severalShapes = points.stream().map(p -> p.tlbEntries() + "/" + p.tlbWays()).distinct().count() > 1;
        NumberAxis y = new NumberAxis("TLB hit rate");
        y.setRange(0, 1.02);
        CombinedRangeXYPlot combined = new CombinedRangeXYPlot(y);
        combined.setGap(12);
        XYPlot first = null;
        for (Map.Entry<String, List<PressurePoint>> panel : byDistribution.entrySet()) {
            XYPlot plot = panel(panel.getKey(), panel.getValue(), severalShapes);
            combined.add(plot, 1);
            first = first == null ? plot : first;
        }
        JFreeChart chart = new JFreeChart("unetmm pressure: TLB hit rate vs working set, per distribution",
                JFreeChart.DEFAULT_TITLE_FONT, combined, false);
        if (first != null) {
            LegendTitle legend = new LegendTitle(first);
            legend.setPosition(RectangleEdge.BOTTOM);
            chart.addSubtitle(legend);
        }
        TextTitle caption = new TextTitle("commit " + abbreviated(RunRecord.gitCommit()) + ", "
                + LocalDate.now(ZoneOffset.UTC) + " (UTC); OPT and top-C dashed: bounds on the same trace; vertical"
                + " marks: TLB reach in pages", new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        caption.setPosition(RectangleEdge.BOTTOM);
        chart.addSubtitle(caption);
        int width = Math.max(700, 420 * byDistribution.size());
        ChartUtils.saveChartAsPNG(file.toFile(), chart, width, 640);
    }

    private static XYPlot panel(String distribution, List<PressurePoint> points, boolean severalShapes) {
        Map<String, XYSeries> series = new LinkedHashMap<>();
        Map<String, Color> colours = new LinkedHashMap<>();
        Map<String, BasicStroke> strokes = new LinkedHashMap<>();
        Map<String, Shape> shapes = new LinkedHashMap<>();
        TreeSet<Integer> reaches = new TreeSet<>();
        for (PressurePoint p : points) {
            String shape = severalShapes ? " " + p.tlbEntries() + "×" + p.tlbWays() + "w" : "";
            String size = severalShapes ? " " + p.tlbEntries() + "e" : "";
            reaches.add(p.tlbEntries());
            String key = p.policy() + shape;
            add(series, key, p.workingSetPages(), p.tlbHitRate());
            colours.putIfAbsent(key, COLOURS.getOrDefault(p.policy(), Color.DARK_GRAY));
            strokes.putIfAbsent(key, SOLID);
            shapes.putIfAbsent(key, marker(p.policy()));
            add(series, "OPT" + size, p.workingSetPages(), p.optHitRate());
            colours.putIfAbsent("OPT" + size, OPT);
            strokes.putIfAbsent("OPT" + size, DASHED);
            if (!Double.isNaN(p.topCHitRate())) {
                add(series, "top-C" + size, p.workingSetPages(), p.topCHitRate());
                colours.putIfAbsent("top-C" + size, TOP_C);
                strokes.putIfAbsent("top-C" + size, DOTTED);
            }
        }
        XYSeriesCollection data = new XYSeriesCollection();
        series.values().forEach(data::addSeries);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            String key = data.getSeriesKey(i).toString();
            renderer.setSeriesPaint(i, colours.get(key));
            renderer.setSeriesStroke(i, strokes.get(key));
            Shape marker = shapes.get(key);
            renderer.setSeriesShapesVisible(i, marker != null);
            if (marker != null) {
                renderer.setSeriesShape(i, marker);
            }
        }
        LogAxis x = new LogAxis("working set (pages) — " + distribution);
        x.setBase(2);
        x.setTickUnit(new NumberTickUnit(1));
        x.setNumberFormatOverride(new DecimalFormat("#,##0"));
        // the reach marks are only seen if the axis spans them: from the smallest of working sets and TLB sizes
        double low = Math.min(reaches.first(), points.stream().mapToInt(PressurePoint::workingSetPages).min().orElse(1));
        double high = Math.max(reaches.last(), points.stream().mapToInt(PressurePoint::workingSetPages).max().orElse(1));
        x.setRange(low / 1.4, high * 1.4);
        XYPlot plot = new XYPlot(data, x, null, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        for (int reach : reaches) {
            ValueMarker mark = new ValueMarker(reach, Color.GRAY, new BasicStroke(1f));
            mark.setLabel("TLB " + reach);
            mark.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
            mark.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
            mark.setLabelTextAnchor(TextAnchor.TOP_LEFT);
            plot.addDomainMarker(mark);
        }
        return plot;
    }

    private static void add(Map<String, XYSeries> series, String key, double x, double y) {
        series.computeIfAbsent(key, XYSeries::new).addOrUpdate(x, y);
    }

    /** A marker per policy, so lines stay apart in grey print too. */
    private static Shape marker(String policy) {
        return switch (policy) {
            case "LRU" -> new Rectangle2D.Double(-3.5, -3.5, 7, 7);
            case "CLOCK" -> new Ellipse2D.Double(-4, -4, 8, 8);
            case "RANDOM" -> polygon(new double[] {0, 4.5, -4.5}, new double[] {-4.5, 4, 4});
            case "SIEVE" -> polygon(new double[] {0, 4.5, 0, -4.5}, new double[] {-5, 0, 5, 0});
            default -> polygon(new double[] {0, 4.5, -4.5}, new double[] {4.5, -4, -4});
        };
    }

    private static Shape polygon(double[] xs, double[] ys) {
        Path2D.Double path = new Path2D.Double();
        path.moveTo(xs[0], ys[0]);
        for (int i = 1; i < xs.length; i++) {
            path.lineTo(xs[i], ys[i]);
        }
        path.closePath();
        return path;
    }

    private static String abbreviated(String commit) {
        return commit.length() > 12 ? commit.substring(0, 12) : commit;
    }
}
