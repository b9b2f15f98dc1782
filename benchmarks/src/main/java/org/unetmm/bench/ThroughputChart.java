package org.unetmm.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.DefaultDrawingSupplier;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

/**
 * compare.png: three panels over one message-size axis (B/KiB/MiB, log): throughput (GB/s, the
 * median of the repeats with a min–max bar, log), each path's ratio to the memcpy limit (taken per
 * repeat, median with min–max), and latency (p50 with a bar to p99, log). One line per path or peer
 * in the Okabe–Ito palette (safe for the common colour-blindnesses) with a marker shape each, the
 * same in every panel; MEMCPY dashed black; a caption with the commit, the date and the machine.
 */
final class ThroughputChart {
    /** Okabe & Ito (2008), without the yellow that vanishes on white; black is MEMCPY's. */
    static final Color[] OKABE_ITO = {new Color(0x0072B2), new Color(0xD55E00), new Color(0x009E73), new Color(0xE69F00),
        new Color(0xCC79A7), new Color(0x56B4E9)};

    private ThroughputChart() {
    }

    static void write(List<ComparePoint> points, String title, Path file) throws IOException {
        YIntervalSeriesCollection throughput = collect(points, false, p -> {
            ComparePoint.Spread gb = p.gigabytes();
            return new double[] {floor(gb.median()), floor(gb.min()), floor(gb.max())};
        });
        YIntervalSeriesCollection ratio = collect(points, true, p -> {
            ComparePoint.Spread r = p.limitRatio();
            return Double.isFinite(r.median()) ? new double[] {r.median(), r.min(), r.max()} : null;
        });
        YIntervalSeriesCollection latency = collect(points, false, p -> p.p50Nanos() > 0
                ? new double[] {p.p50Nanos(), p.p50Nanos(), Math.max(p.p50Nanos(), p.p99Nanos())} : null);
        LogAxis x = new LogAxis("message size");
        x.setBase(2);
        x.setSmallestValue(1);
        x.setTickUnit(new NumberTickUnit(2)); // a tick every power of 4
        x.setNumberFormatOverride(new SizeFormat());
        LogAxis gbAxis = new LogAxis("GB/s: median, bar min–max");
        gbAxis.setTickUnit(new NumberTickUnit(1));
        gbAxis.setNumberFormatOverride(new DecimalFormat("0.###"));
        NumberAxis ratioAxis = new NumberAxis("× memcpy (per repeat)");
        ratioAxis.setAutoRangeIncludesZero(true);
        LogAxis latencyAxis = new LogAxis("latency p50 (ns), bar to p99");
        latencyAxis.setTickUnit(new NumberTickUnit(1));
        latencyAxis.setNumberFormatOverride(new DecimalFormat("0"));
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(x);
        plot.setGap(12);
        plot.add(panel(throughput, gbAxis, true), 3);
        plot.add(panel(ratio, ratioAxis, false), 2);
        plot.add(panel(latency, latencyAxis, false), 2);
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        TextTitle caption = new TextTitle(caption(), new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        caption.setPosition(RectangleEdge.BOTTOM);
        chart.addSubtitle(caption);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, 960, 1000);
    }

    /** One series per path (or peer), in the order met; {@code value} gives median, low, high, or null to leave a point out. */
    private static YIntervalSeriesCollection collect(List<ComparePoint> points, boolean withoutLimit,
                                                     java.util.function.Function<ComparePoint, double[]> value) {
        Map<String, YIntervalSeries> series = new LinkedHashMap<>();
        for (ComparePoint p : points) {
            String name = name(p);
            YIntervalSeries s = series.computeIfAbsent(name, YIntervalSeries::new); // every panel: the same series, same colours
            double[] v = withoutLimit && isLimit(name) ? null : value.apply(p);
            if (v != null) {
                s.add(p.size(), v[0], v[1], v[2]);
            }
        }
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        series.values().forEach(data::addSeries);
        return data;
    }

    private static String name(ComparePoint p) {
        return p.path() + " (" + p.transport() + ")";
    }

    private static boolean isLimit(String name) {
        return name.startsWith("MEMCPY");
    }

    /** A panel: each path in its palette colour and marker, MEMCPY dashed black, a bar per point; the first carries the legend. */
    private static XYPlot panel(YIntervalSeriesCollection data, ValueAxis y, boolean legend) {
        XYErrorRenderer renderer = new XYErrorRenderer();
        renderer.setDrawXError(false);
        renderer.setDefaultLinesVisible(true);
        renderer.setDefaultShapesVisible(true);
        renderer.setErrorPaint(null); // each bar in its series' colour
        Shape[] shapes = DefaultDrawingSupplier.createStandardSeriesShapes();
        int colour = 0;
        for (int i = 0; i < data.getSeriesCount(); i++) {
            boolean limit = isLimit(data.getSeriesKey(i).toString());
            renderer.setSeriesPaint(i, limit ? Color.BLACK : OKABE_ITO[colour++ % OKABE_ITO.length]);
            renderer.setSeriesShape(i, shapes[i % shapes.length]);
            renderer.setSeriesStroke(i, limit ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                    new float[] {6f, 4f}, 0f) : new BasicStroke(2f));
            renderer.setSeriesVisibleInLegend(i, legend); // one legend for the three panels
        }
        XYPlot plot = new XYPlot(data, null, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        return plot;
    }

    /** "commit 1a2b3c4d5e6f, 2026-12-01 12:00 UTC, host (CPU model, 2 cores)". */
    static String caption() {
        String commit = RunRecord.gitCommit();
        return "commit " + (commit.matches("[0-9a-f]{40}(-dirty)?") ? commit.substring(0, 12) + commit.substring(40) : commit) + ", "
                + ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")) + ", "
                + RunRecord.hostName() + " (" + RunRecord.cpuModel() + ", " + Runtime.getRuntime().availableProcessors()
                + " cores)";
    }

    /** A log axis has no zero: an empty point is drawn at the bottom. */
    private static double floor(double gb) {
        return Double.isFinite(gb) ? Math.max(gb, 1e-6) : 1e-6;
    }

    /** Tick labels in B, KiB and MiB. */
    static final class SizeFormat extends NumberFormat {
        @Override
        public StringBuffer format(double number, StringBuffer to, FieldPosition pos) {
            long v = Math.round(number);
            return v >= 1 && v <= Integer.MAX_VALUE ? to.append(ByteSize.human((int) v)) : to.append(v);
        }

        @Override
        public StringBuffer format(long number, StringBuffer to, FieldPosition pos) {
            return format((double) number, to, pos);
        }

        @Override
        public Number parse(String source, ParsePosition pos) {
            throw new UnsupportedOperationException("tick labels are not parsed");
        }
    }
}
