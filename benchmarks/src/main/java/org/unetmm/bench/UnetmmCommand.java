package org.unetmm.bench;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code unetmm} command: experiments on U-Net/MM, each printing a table and writing CSV,
 * a plot and the run's configuration under {@code results/<timestamp>/}.
 *
 * <p>Exit status, the same for every subcommand and decided here only: 0 when the run did what
 * it was asked, 1 when it could not (a port in use, no echo answering, a bad transport URI, lost
 * round trips) with one line on stderr saying why, and 2 for a usage error (a bad or missing
 * option: one line naming it and what it allows, then where the help is; no subcommand at all:
 * the usage). Set {@code UNETMM_STACK_TRACE=1} in the
 * environment to get the Java stack trace of a failure as well.
 */
@Command(name = "unetmm", mixinStandardHelpOptions = true, versionProvider = UnetmmVersion.class,
        // INHERIT: every subcommand gets --version from the build, the exit status list and (unless it has its own) the footer
        scope = CommandLine.ScopeType.INHERIT, exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:the run did what it was asked", "1:it could not (one line on stderr says why)",
                "2:a usage error: a bad or missing option"},
        description = "U-Net/MM for the JVM: experiments on the fixed-segment and pinned-buffer paths.",
        footer = {"", "Examples:", "  unetmm info                       (what will distort a measurement here)",
                "  unetmm compare --quick", "  unetmm pingpong compare --quick"},
        subcommands = {CompareCommand.class, PressureCommand.class, BenchCommand.class, EchoCommand.class, PingPongCommand.class,
                ReliableStreamCommand.class, StreamCommand.class, SinkCommand.class, RpcCommand.class, StatCommand.class, InfoCommand.class,
                CommandLine.HelpCommand.class})
public final class UnetmmCommand implements Callable<Integer> {
    /** A run that could not do what it was asked. */
    static final int FAILED = 1;
    /** A usage error: picocli's own code for a bad command line. */
    static final int USAGE = CommandLine.ExitCode.USAGE;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** No subcommand: that is a usage error, so the usage goes to stderr and the status is 2. */
    @Override
    public Integer call() {
        spec.commandLine().usage(System.err);
        return USAGE;
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code (1 failed, 2 bad options), for tests. */
    public static int execute(String... args) {
        if (args.length > 0 && args[0].equals("bench") && !(args.length == 2 && (args[1].equals("--help") || args[1].equals("--version")))) {
            try {
                BenchCommand.run(Arrays.copyOfRange(args, 1, args.length)); // JMH parses its own options, in order
                return 0;
            } catch (RuntimeException e) {
                return failed("unetmm bench", e, System.err);
            }
        }
        return new CommandLine(new UnetmmCommand())
                .setParameterExceptionHandler(UnetmmCommand::usageError)
                .setExecutionExceptionHandler((e, commandLine, parsed) ->
                        failed(commandLine.getCommandSpec().qualifiedName(), e, commandLine.getErr()))
                .execute(args);
    }

    /**
     * A usage error: one line naming the option and what it allows ("unetmm compare: --sizes: ..."),
     * picocli's suggestions for a mistyped option, and where the options are; returns {@link #USAGE}.
     */
    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        PrintWriter err = command.getErr();
        String name = command.getCommandSpec().qualifiedName();
        err.println(name + ": " + flat(e.getMessage()));
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Try '" + name + " --help' for the options and examples.");
        err.flush();
        return USAGE;
    }

    /** Prints one line, "unetmm echo: what went wrong: why", and returns {@link #FAILED}. */
    private static int failed(String command, Throwable e, PrintWriter err) {
        err.println(command + ": " + oneLine(e));
        if (System.getenv("UNETMM_STACK_TRACE") != null) {
            e.printStackTrace(err);
        }
        err.flush();
        return FAILED;
    }

    private static int failed(String command, Throwable e, PrintStream err) {
        return failed(command, e, new PrintWriter(err, true));
    }

    /** The messages of a failure and its causes, each once, on one line. */
    static String oneLine(Throwable e) {
        StringBuilder line = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null) {
                String message = flat(t.getMessage());
                if (line.indexOf(message) < 0) {
                    line.append(line.length() == 0 ? "" : ": ").append(message);
                }
            }
        }
        return line.length() > 0 ? line.toString()
                : e.getClass().getSimpleName() + " (set UNETMM_STACK_TRACE=1 for the stack trace)";
    }

    /** A message on one line. */
    private static String flat(String message) {
        return message.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
