package org.unetmm.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code unetmm} command: experiments on U-Net/MM, each printing a table and writing CSV,
 * a plot and the run's configuration under {@code results/<timestamp>/}.
 */
@Command(name = "unetmm", mixinStandardHelpOptions = true, version = "unetmm 0.1.0",
        description = "U-Net/MM for the JVM: experiments on the fixed-segment and pinned-buffer paths.",
        subcommands = {CompareCommand.class, PressureCommand.class, BenchCommand.class, EchoCommand.class, PingPongCommand.class,
                ReliableStreamCommand.class,
                CommandLine.HelpCommand.class})
public final class UnetmmCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code (2 for bad options), for tests. */
    public static int execute(String... args) {
        if (args.length > 0 && args[0].equals("bench") && !(args.length == 2 && args[1].equals("--help"))) {
            BenchCommand.run(java.util.Arrays.copyOfRange(args, 1, args.length)); // JMH parses its own options, in order
            return 0;
        }
        return new CommandLine(new UnetmmCommand()).execute(args);
    }
}
