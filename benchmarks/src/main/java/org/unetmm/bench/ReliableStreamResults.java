package org.unetmm.bench;

import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * What {@code unetmm reliable-stream} measured, summarised: each kind's (lossless, lossy) MB/s and
 * retransmissions per fragment as median [min–max], the lossy ÷ lossless ratio per repeat pair, the
 * spread flag; as the table, the CSV rows and reliable-stream.json.
 */
final class ReliableStreamResults {
    private final int message;
    private final long total;
    private final int window;
    private final int loss;
    private final boolean bothWays;
    private final int repeats;

    ReliableStreamResults(int message, long total, int window, int loss, boolean bothWays, int repeats) {
        this.message = message;
        this.total = total;
        this.window = window;
        this.loss = loss;
        this.bothWays = bothWays;
        this.repeats = repeats;
    }

    /** One measured stream, as the sender reported it: its bytes, time and reliable-channel counters. */
    record Stream(boolean lossy, int repeat, Instant startedAt, long bytes, long nanos, long fragments, long retransmissions,
                  long timeouts, long samples, long srtt, long acks, long ackWaitNanos) {
        double mbPerSecond() {
            return bytes / (nanos / 1e9) / 1e6;
        }

        /** Retransmissions ÷ first transmissions (the fragments sent, less the retransmissions among them). */
        double retransmissionsPerFragment() {
            return (double) retransmissions / Math.max(1, fragments - retransmissions);
        }

        String kind() {
            return lossy ? "lossy" : "lossless";
        }

        /** Acknowledgement frames the sender heard per 64 KiB of first transmissions (what paces its window). */
        double acksPer64KiB() {
            return acks / Math.max(1e-9, bytes / 65536.0);
        }

        /** Share of the stream's time the sender could do nothing but wait for acknowledgements (its window full and sent). */
        double ackWaitShare() {
            return ackWaitNanos / (double) Math.max(1, nanos);
        }

        /**
         * The sender's STREAM line: bytes, nanos, fragments, retransmissions, timeouts, RTT samples, srtt,
         * acknowledgements heard, nanoseconds spent waiting on acknowledgements only.
         */
        static Stream parse(boolean lossy, int repeat, Instant startedAt, String line) {
            long[] v = Arrays.stream(line.trim().split(" ")).mapToLong(Long::parseLong).toArray();
            return new Stream(lossy, repeat, startedAt, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]);
        }
    }

    private static List<Stream> of(List<Stream> streams, boolean lossy) {
        return streams.stream().filter(s -> s.lossy() == lossy).toList();
    }

    private static double[] values(List<Stream> streams, ToDoubleFunction<Stream> value) {
        return streams.stream().mapToDouble(value).toArray();
    }

    /** Lossy ÷ lossless MB/s of each repeat pair (the two streams of one repeat), summarised. */
    private static ComparePoint.Spread ratio(List<Stream> streams) {
        return RepeatSummary.ratios(values(of(streams, true), Stream::mbPerSecond), values(of(streams, false),
                Stream::mbPerSecond));
    }

    private static List<String> flags(List<Stream> of, double spreadFlag) {
        return RepeatSummary.spreadAbove(values(of, Stream::mbPerSecond), spreadFlag) ? List.of(ComparePoint.SPREAD)
                : List.of();
    }

    private String label(boolean lossy) {
        return lossy ? loss + " % loss" : "lossless";
    }

    void report(List<Stream> streams, double spreadFlag, PrintStream out) {
        out.println();
        out.printf(Locale.ROOT, "%-28s %10s %10s %10s  %s%n", "", "median", "min", "max", "flags");
        for (boolean lossy : new boolean[] {false, true}) {
            List<Stream> of = of(streams, lossy);
            ComparePoint.Spread mb = ComparePoint.Spread.of(values(of, Stream::mbPerSecond));
            List<String> flags = flags(of, spreadFlag);
            out.printf(Locale.ROOT, "%-28s %10.1f %10.1f %10.1f  %s%n", label(lossy) + " MB/s", mb.median(), mb.min(),
                    mb.max(), flags.isEmpty() ? "-" : String.join(",", flags));
        }
        ComparePoint.Spread perFragment = ComparePoint.Spread.of(values(of(streams, true), Stream::retransmissionsPerFragment));
        out.printf(Locale.ROOT, "%-28s %10.3f %10.3f %10.3f%n", label(true) + " retransmits/fragment", perFragment.median(),
                perFragment.min(), perFragment.max());
        ComparePoint.Spread ratio = ratio(streams);
        out.printf(Locale.ROOT, "%-28s %10.3f %10.3f %10.3f  (lossy ÷ lossless MB/s per repeat pair; %d pairs, interleaved)%n",
                "ratio", ratio.median(), ratio.min(), ratio.max(), repeats);
    }

    /** A row per kind: MB/s and retransmissions per fragment as median, min, max; the ratio to lossless; spread, flags. */
    List<String> csv(List<Stream> streams, double spreadFlag) {
        List<String> csv = new ArrayList<>();
        csv.add("kind,loss_percent,message_bytes,total_bytes,window,repeats," + RepeatSummary.csvHeader("mb_per_s") + ","
                + RepeatSummary.csvHeader("retransmissions_per_fragment") + ",timeouts,"
                + RepeatSummary.csvHeader("vs_lossless") + ",spread,flags");
        for (boolean lossy : new boolean[] {false, true}) {
            List<Stream> of = of(streams, lossy);
            ComparePoint.Spread mb = ComparePoint.Spread.of(values(of, Stream::mbPerSecond));
            csv.add(String.join(",", lossy ? "lossy" : "lossless", Integer.toString(lossy ? loss : 0),
                    Integer.toString(message), Long.toString(total), Integer.toString(window), Integer.toString(of.size()),
                    RepeatSummary.csv(mb, "%.2f"),
                    RepeatSummary.csv(ComparePoint.Spread.of(values(of, Stream::retransmissionsPerFragment)), "%.4f"),
                    Long.toString(of.stream().mapToLong(Stream::timeouts).sum()),
                    RepeatSummary.csv(lossy ? ratio(streams) : new ComparePoint.Spread(1, 1, 1), "%.3f"),
                    ComparePoint.finite("%.3f", mb.relative()), String.join(";", flags(of, spreadFlag))));
        }
        return csv;
    }

    /** reliable-stream.json: the run record, each kind's summary, the per-pair ratio, every stream in the order it ran. */
    Map<String, Object> document(Map<String, Object> run, List<Stream> streams, double spreadFlag) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("run", run);
        doc.put("messageBytes", message);
        doc.put("totalBytes", total);
        doc.put("window", window);
        doc.put("lossPercent", loss);
        doc.put("lossBothWays", bothWays);
        doc.put("repeats", repeats);
        List<Object> kinds = new ArrayList<>();
        for (boolean lossy : new boolean[] {false, true}) {
            List<Stream> of = of(streams, lossy);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", lossy ? "lossy" : "lossless");
            m.put("lossPercent", lossy ? loss : 0);
            m.put("repeats", of.size());
            ComparePoint.Spread mb = ComparePoint.Spread.of(values(of, Stream::mbPerSecond));
            CompareJson.spread(m, "mbPerSecond", mb, "no time measured");
            CompareJson.spread(m, "retransmissionsPerFragment",
                    ComparePoint.Spread.of(values(of, Stream::retransmissionsPerFragment)), "no stream measured");
            m.put("timeouts", of.stream().mapToLong(Stream::timeouts).sum());
            CompareJson.number(m, "spread", mb.relative(), "the median throughput is 0");
            m.put("flags", flags(of, spreadFlag));
            kinds.add(m);
        }
        doc.put("kinds", kinds);
        CompareJson.spread(doc, "lossyToLossless", ratio(streams), "a lossless stream measured no time");
        List<Object> samples = new ArrayList<>();
        for (Stream s : streams) {
            Map<String, Object> m = duration(s);
            m.put("bytes", s.bytes());
            CompareJson.number(m, "mbPerSecond", s.mbPerSecond(), "no time measured");
            m.put("fragments", s.fragments());
            m.put("retransmissions", s.retransmissions());
            CompareJson.number(m, "retransmissionsPerFragment", s.retransmissionsPerFragment(), "no fragment sent");
            m.put("timeouts", s.timeouts());
            m.put("rttSamples", s.samples());
            m.put("srttMicros", s.srtt() / 1e3);
            m.put("acksReceived", s.acks());
            CompareJson.number(m, "acksPer64KiB", s.acksPer64KiB(), "no bytes sent");
            CompareJson.number(m, "ackWaitShare", s.ackWaitShare(), "no time measured");
            samples.add(m);
        }
        doc.put("samples", samples);
        return doc;
    }

    /** One stream's kind, repeat, start and seconds (run.json's repeat durations, the JSON samples). */
    static Map<String, Object> duration(Stream s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", s.kind());
        m.put("repeat", s.repeat());
        m.put("startedAt", s.startedAt().toString());
        m.put("seconds", s.nanos() / 1e9);
        return m;
    }
}
