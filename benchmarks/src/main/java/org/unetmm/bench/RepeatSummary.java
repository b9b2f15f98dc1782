package org.unetmm.bench;

import org.HdrHistogram.Histogram;

/**
 * A measure over a command's repeats, as {@code pingpong}, {@code reliable-stream} and {@code rpc
 * bench} report it: the {@link ComparePoint.Spread median, min and max} of the values, the ratio of
 * two interleaved measures taken per repeat pair and then summarised (so drift of the machine, which
 * hits both of a pair alike, cancels), whether the spread is above {@code --spread-flag}, and the
 * summary as a table cell and as CSV cells (as a JSON object it is {@link CompareJson#spread}'s).
 */
final class RepeatSummary {
    private RepeatSummary() {
    }

    /** {@code numerators[i] ÷ denominators[i]} for each repeat pair {@code i}, summarised. */
    static ComparePoint.Spread ratios(double[] numerators, double[] denominators) {
        if (numerators.length != denominators.length) {
            throw new IllegalArgumentException("ratios pair repeats: " + numerators.length + " numerators, "
                    + denominators.length + " denominators");
        }
        double[] r = new double[numerators.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = numerators[i] / denominators[i];
        }
        return ComparePoint.Spread.of(r);
    }

    /** Whether {@code values} are more than one repeat and their (max − min) ÷ median is above {@code threshold}. */
    static boolean spreadAbove(double[] values, double threshold) {
        return values.length > 1 && ComparePoint.Spread.of(values).relative() > threshold;
    }

    /** {@code "12.30 [11.90–13.10]"} in {@code format} (e.g. {@code "%.2f"}); a single repeat is its value alone. */
    static String text(ComparePoint.Spread s, String format, int repeats) {
        return repeats == 1 ? String.format(format, s.median())
                : String.format(format + " [" + format + "–" + format + "]", s.median(), s.min(), s.max());
    }

    /** The CSV header cells {@code name,name_min,name_max}. */
    static String csvHeader(String name) {
        return name + "," + name + "_min," + name + "_max";
    }

    /** The CSV cells median, min, max in {@code format}; an empty cell for NaN or infinity. */
    static String csv(ComparePoint.Spread s, String format) {
        return ComparePoint.finite(format, s.median()) + "," + ComparePoint.finite(format, s.min()) + ","
                + ComparePoint.finite(format, s.max());
    }

    /** A percentile of a histogram of nanoseconds, in µs; NaN when it recorded nothing (no call is not 0 µs). */
    static double micros(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1e3;
    }
}
