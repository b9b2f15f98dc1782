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
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.DefaultDrawingSupplier;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

/**
 * compare.png: throughput (GB/s, the median of the repeats, with a min–max bar) against message
 * size (B/KiB/MiB), log axes, one line per path or peer in the Okabe–Ito palette (safe for the
 * common colour-blindnesses) with a marker shape each, MEMCPY dashed black; a caption with the
 * commit, the date and the machine.
 */
final class ThroughputChart {
    /** Okabe & Ito (2008), without the yellow that vanishes on white; black is MEMCPY's. */
    static final Color[] OKABE_ITO = {new Color(0x0072B2), new Color(0xD55E00), new Color(0x009E73), new Color(0xE69F00),
        new Color(0xCC79A7), new Color(0x56B4E9)};

    private ThroughputChart() {
    }

    static void write(List<ComparePoint> points, String title, Path file) throws IOException {
        Map<String, YIntervalSeries> series = new LinkedHashMap<>();
        for (ComparePoint p : points) {
            String name = p.path() + " (" + p.transport() + ")";
            ComparePoint.Spread gb = p.gigabytes();
            series.computeIfAbsent(name, YIntervalSeries::new).add(p.size(), floor(gb.median()), floor(gb.min()), floor(gb.max()));
        }
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        series.values().forEach(data::addSeries);
        LogAxis x = new LogAxis("message size");
        x.setBase(2);
        x.setSmallestValue(1);
        x.setTickUnit(new NumberTickUnit(2)); // a tick every power of 4
        x.setNumberFormatOverride(new SizeFormat());
        LogAxis y = new LogAxis("throughput (GB/s), median of the repeats, bar min–max");
        y.setTickUnit(new NumberTickUnit(1));
        y.setNumberFormatOverride(new DecimalFormat("0.###"));
        XYErrorRenderer renderer = new XYErrorRenderer();
        renderer.setDrawXError(false);
        renderer.setDefaultLinesVisible(true);
        renderer.setDefaultShapesVisible(true);
        renderer.setErrorPaint(null); // each bar in its series' colour
        Shape[] shapes = DefaultDrawingSupplier.createStandardSeriesShapes();
        int colour = 0;
        for (int i = 0; i < data.getSeriesCount(); i++) {
            boolean limit = data.getSeriesKey(i).toString().startsWith("MEMCPY");
            renderer.setSeriesPaint(i, limit ? Color.BLACK : OKABE_ITO[colour++ % OKABE_ITO.length]);
            renderer.setSeriesShape(i, shapes[i % shapes.length]);
            renderer.setSeriesStroke(i, limit ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                    new float[] {6f, 4f}, 0f) : new BasicStroke(2f));
        }
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        TextTitle caption = new TextTitle(caption(), new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        caption.setPosition(RectangleEdge.BOTTOM);
        chart.addSubtitle(caption);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, 960, 600);
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
