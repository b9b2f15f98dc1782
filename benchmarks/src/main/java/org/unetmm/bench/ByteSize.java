package org.unetmm.bench;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * A size in bytes as a user writes it, for every size option: {@code 64}, {@code 4K} or
 * {@code 4KiB} (4096), {@code 1M} or {@code 1MiB}, {@code 1G} or {@code 1GiB}, the suffix in any
 * case; multiples are binary, as a message size is a power of two more often than not. It refuses
 * what is not a size (text, fractions, more than 2 GiB − 1); a sign is kept, so the command's own
 * range check ({@link #check}) names the option and what it allows for 0 and negatives too.
 */
final class ByteSize implements CommandLine.ITypeConverter<Integer> {
    static final String FORMS = "64, 4K or 4KiB, 1M or 1MiB";
    private static final Pattern SIZE = Pattern.compile("([+-]?\\d+)\\s*(|b|k|kib|kb|m|mib|mb|g|gib|gb)");

    @Override
    public Integer convert(String value) {
        return parse(value);
    }

    /** The bytes {@code text} says, or a {@link CommandLine.TypeConversionException} saying what a size looks like. */
    static int parse(String text) {
        Matcher m = SIZE.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not a size: give bytes as " + FORMS);
        }
        int shift = switch (m.group(2)) {
            case "k", "kib", "kb" -> 10;
            case "m", "mib", "mb" -> 20;
            case "g", "gib", "gb" -> 30;
            default -> 0;
        };
        long bytes;
        try {
            bytes = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            bytes = Long.MAX_VALUE;
        }
        if (Math.abs(bytes) > (Integer.MAX_VALUE >> shift)) {
            throw new CommandLine.TypeConversionException("'" + text + "' is 2 GiB or more: no size here is that large");
        }
        return (int) (bytes << shift);
    }

    /**
     * Refuses, as a usage error naming {@code option} and the range, a size outside {@code min..max}:
     * "--sizes: 0 B is out of range: 1..4194304 bytes (1 B..4 MiB)", then {@code why} when given.
     */
    static void check(CommandLine commandLine, String option, long bytes, long min, long max, String why) {
        if (bytes < min || bytes > max) {
            throw new CommandLine.ParameterException(commandLine, option + ": " + human(bytes) + " is out of range: "
                    + min + ".." + max + " bytes (" + human(min) + ".." + human(max) + ")" + (why == null ? "" : "; " + why));
        }
    }

    /** Refuses, as a usage error naming {@code option} and the range, a count outside {@code min..max}. */
    static void checkCount(CommandLine commandLine, String option, long value, long min, long max) {
        if (value < min || value > max) {
            throw new CommandLine.ParameterException(commandLine, option + ": " + value + " is out of range: " + min + ".." + max);
        }
    }

    /** 64 B, 4 KiB, 1 MiB: whole binary multiples named, anything else in bytes. */
    static String human(long bytes) {
        if (bytes != 0 && bytes % (1 << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        if (bytes != 0 && bytes % 1024 == 0) {
            return (bytes >> 10) + " KiB";
        }
        return bytes + " B";
    }
}
