package org.unetmm.bench;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code unetmm bench [JMH options]}: runs the JMH benchmarks packed in this jar. */
@Command(name = "bench", description = "Run the JMH benchmarks (PinBenchmark, TlbBenchmark, SendPathBenchmark);"
        + " arguments are passed to JMH, e.g. 'bench PinBenchmark -f 1'.",
        footer = {"", "Examples:", "  unetmm bench PinBenchmark -f 1 -wi 3 -i 5",
                "  unetmm bench SendPathBenchmark -prof gc        (allocation per send)", "  unetmm bench -l   (list them)"})
public final class BenchCommand implements Runnable {
    @Parameters(description = "JMH arguments (benchmark regexps and options, e.g. -f 1 -wi 3 -i 5 -prof gc)")
    List<String> jmhArguments = new ArrayList<>();

    @CommandLine.Unmatched
    List<String> options = new ArrayList<>();

    @Override
    public void run() {
        List<String> all = new ArrayList<>(jmhArguments);
        all.addAll(options);
        run(all.toArray(String[]::new));
    }

    /** Hands the arguments to JMH's own command line, in the order given. */
    static void run(String[] arguments) {
        try {
            org.openjdk.jmh.Main.main(arguments);
        } catch (Exception e) {
            throw new IllegalStateException("JMH failed: " + e.getMessage(), e);
        }
    }
}
