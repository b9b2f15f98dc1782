package org.unetmm.bench;

import java.util.Locale;
import picocli.CommandLine;

/**
 * A byte count on the command line: {@code 64}, {@code 64B}, {@code 4KiB}, {@code 1MiB} (binary
 * units, case-insensitive, at most {@code Integer.MAX_VALUE} bytes). A picocli converter, so a bad
 * value is a usage error naming the accepted forms.
 */
final class ByteSize implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
        return parse(value);
    }

    static int parse(String value) {
        String text = value.strip().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (text.endsWith("kib")) {
            unit = 1L << 10;
            text = text.substring(0, text.length() - 3);
        } else if (text.endsWith("mib")) {
            unit = 1L << 20;
            text = text.substring(0, text.length() - 3);
        } else if (text.endsWith("b")) {
            text = text.substring(0, text.length() - 1);
        }
        long bytes;
        try {
            bytes = Long.parseLong(text.strip()) * unit;
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a size: give bytes as 64, 64B, 4KiB or 1MiB");
        }
        if (bytes < 0 || bytes > Integer.MAX_VALUE) {
            throw new CommandLine.TypeConversionException("'" + value + "' is out of range: sizes are 0.." + Integer.MAX_VALUE + " bytes");
        }
        return (int) bytes;
    }
}
