package org.unetmm.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code compare.json} (and {@code unetmm compare --format json}): the run record, every point with
 * its median, min and max and its flags, and every repeat in the order it ran. JSON has no NaN or
 * infinity: such a value is written as {@code null} with a {@code <field>WhyNull} beside it.
 */
final class CompareJson {
    private CompareJson() {
    }

    static Map<String, Object> document(Map<String, Object> run, List<ComparePoint> points, List<ComparePoint.Repeat> samples) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("run", run);
        List<Object> ps = new ArrayList<>();
        points.forEach(p -> ps.add(point(p)));
        doc.put("points", ps);
        List<Object> rs = new ArrayList<>();
        samples.forEach(r -> rs.add(repeat(r)));
        doc.put("samples", rs);
        return doc;
    }

    static Map<String, Object> point(ComparePoint p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("transport", p.transport());
        m.put("path", p.path());
        m.put("sizeBytes", p.size());
        m.put("repeats", p.repeats().size());
        m.put("messages", p.messages());
        m.put("seconds", p.seconds());
        number(m, "msgsPerSecond", p.messagesPerSecond(), "no repeat measured");
        spread(m, "gbPerSecond", p.gigabytes(), "no repeat measured");
        number(m, "spread", p.gigabytes().relative(), "the median throughput is 0");
        m.put("p50Nanos", p.p50Nanos());
        m.put("p99Nanos", p.p99Nanos());
        m.put("latency", p.latency());
        number(m, "tlbHitRate", p.tlbHitRate(), "no TLB on this path");
        number(m, "pinsPerMsg", p.pinsPerMsg(), "no pin cache on this path");
        spread(m, "ratioToMemcpy", p.limitRatio(), "no memcpy repeat to pair with");
        m.put("flags", p.flags());
        return m;
    }

    static Map<String, Object> repeat(ComparePoint.Repeat r) {
        Map<String, Object> m = duration(r);
        m.put("messages", r.messages());
        number(m, "gbPerSecond", r.gigabytesPerSecond(), "no time measured");
        number(m, "ratioToMemcpy", r.ratio(), "no memcpy repeat to pair with");
        number(m, "tlbHitRate", r.tlbHitRate(), "no TLB on this path");
        number(m, "pinsPerMsg", r.pinsPerMsg(), "no pin cache on this path");
        return m;
    }

    /** Which repeat ran when and for how long, for run.json. */
    static Map<String, Object> duration(ComparePoint.Repeat r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", r.path());
        m.put("sizeBytes", r.size());
        m.put("repeat", r.index());
        m.put("startedAt", r.startedAt().toString());
        m.put("seconds", r.seconds());
        return m;
    }

    static void spread(Map<String, Object> m, String key, ComparePoint.Spread s, String why) {
        Map<String, Object> v = new LinkedHashMap<>();
        number(v, "median", s.median(), why);
        number(v, "min", s.min(), why);
        number(v, "max", s.max(), why);
        m.put(key, v);
    }

    /** Puts {@code value}, or null and {@code <key>WhyNull} when it is NaN or infinite. */
    static void number(Map<String, Object> m, String key, double value, String why) {
        if (Double.isFinite(value)) {
            m.put(key, value);
        } else {
            m.put(key, null);
            m.put(key + "WhyNull", (Double.isNaN(value) ? "NaN: " : "infinite: ") + why);
        }
    }
}
