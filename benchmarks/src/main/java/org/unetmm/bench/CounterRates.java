package org.unetmm.bench;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Per-second rates of monotonic counters, kept per NIC name, as {@code unetmm stat} prints them.
 * A rate compares a NIC's counters only with that same NIC's previous sample, over the time that
 * really passed between the two: a process that closes a NIC and opens another between two lines
 * gets no rate for the new one yet, not the difference of two NICs' counters.
 */
final class CounterRates {
    private record Sample(long nanos, long[] counts) {
    }

    private final Map<String, Sample> previous = new HashMap<>();

    /**
     * Records {@code counts} of {@code nic} read at {@code nanos} ({@link System#nanoTime()}), and
     * returns each counter's rate per second since its previous sample, or null for the NIC's first
     * sample (or one with no time passed).
     */
    double[] update(String nic, long nanos, long... counts) {
        Sample before = previous.put(nic, new Sample(nanos, counts.clone()));
        if (before == null || before.counts.length != counts.length || nanos - before.nanos <= 0) {
            return null;
        }
        double seconds = (nanos - before.nanos) / 1e9;
        double[] rates = new double[counts.length];
        for (int i = 0; i < counts.length; i++) {
            rates[i] = (counts[i] - before.counts[i]) / seconds;
        }
        return rates;
    }

    /** Forgets every NIC not in {@code open} (closed since): memory stays bounded in a long watch. */
    void retain(Set<String> open) {
        previous.keySet().retainAll(open);
    }

    /** {@code rates[index] / divisor} in {@code pattern}, or {@code -} when there is no rate yet. */
    static String format(double[] rates, int index, double divisor, String pattern) {
        return rates == null ? "-" : String.format(pattern, rates[index] / divisor);
    }
}
