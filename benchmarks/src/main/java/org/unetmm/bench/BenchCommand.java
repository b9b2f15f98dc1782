package org.unetmm.bench;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code unetmm bench [JMH options]}: runs the JMH benchmarks packed in this jar. */
@Command(name = "bench", description = "Run the JMH benchmarks (PinBenchmark, TlbBenchmark, SendPathBenchmark);"
        + " arguments are passed to JMH, e.g. 'bench PinBenchmark -f 1'.")
public final class BenchCommand implements Runnable {
    @Parameters(description = "JMH arguments (benchmark regexps and options)")
    List<String> jmhArguments = new ArrayList<>();

    @Override
    public void run() {
        try {
            org.openjdk.jmh.Main.main(jmhArguments.toArray(String[]::new));
        } catch (Exception e) {
            throw new IllegalStateException("JMH failed: " + e.getMessage(), e);
        }
    }
}
