package org.unetmm.tlb.trace;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Page traces on disk, in the two formats they travel in: {@link Format#TEXT} and the CSV
 * traces of libCacheSim (Yang et al.'s simulator, the one SIEVE and S3-FIFO were measured with),
 * so a trace recorded here can be replayed there and one from there replayed here. The format is
 * chosen by the file's name: {@code .csv} is libCacheSim's, anything else plain text.
 *
 * <p>Plain text: one access a line, its virtual page number (decimal, or hex with {@code 0x}),
 * optionally followed by whitespace and a context id (0 if absent); {@code #} starts a comment,
 * blank lines are skipped.
 *
 * <p>libCacheSim CSV: a header {@code time,obj_id,obj_size}, then one access a row: its index,
 * the object id, and the page size in bytes. The object id is the page number with the context
 * in bits 51 and up ({@code context << 51 | page}; page numbers of a 64-bit address space are
 * below 2^51), so contexts stay distinct objects there and come back apart here. Replay it with
 * {@code cachesim FILE csv LRU,S3FIFO,Sieve 1024 -t "time-col=1, obj-id-col=2, obj-size-col=3,
 * delimiter=,, has-header=true" --ignore-obj-size 1}. On reading, the header is optional; the
 * object id is the column named {@code obj_id} (or {@code obj-id}, {@code id}), else the second
 * column if there are two or more, else the first; ids are unsigned 64-bit.
 *
 * <p>A line that cannot be read is a {@link TraceFormatException} with its line number.
 */
public final class TraceFile {
    /** The two encodings. */
    public enum Format {
        /** One virtual page number a line, then its context if not 0; {@code #} starts a comment. */
        TEXT,
        /** libCacheSim's CSV: {@code time,obj_id,obj_size}, the context in the id's top bits. */
        LIBCACHESIM_CSV;

        /**
         * {@code .csv} is libCacheSim's CSV, any other name plain text.
         *
         * @param file a trace file's path
         * @return the format its name selects
         */
        public static Format of(Path file) {
            String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
            return name.endsWith(".csv") ? LIBCACHESIM_CSV : TEXT;
        }
    }

    private static final int CONTEXT_SHIFT = 51;
    private static final long PAGE_MASK = (1L << CONTEXT_SHIFT) - 1;
    private static final String CSV_HEADER = "time,obj_id,obj_size";

    private TraceFile() {
    }

    /**
     * Writes the trace's virtual page numbers in the format its name selects.
     *
     * @param trace    the accesses
     * @param file     the file to write (replaced if it exists); {@code .csv} selects libCacheSim's CSV
     * @param pageSize the page size in bytes, written as each object's size in CSV
     * @throws IOException if the file cannot be written
     */
    public static void write(PageTrace trace, Path file, long pageSize) throws IOException {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            if (Format.of(file) == Format.LIBCACHESIM_CSV) {
                out.write(CSV_HEADER);
                out.newLine();
                for (int i = 0; i < trace.length(); i++) {
                    long id = ((long) trace.context(i) << CONTEXT_SHIFT) | trace.virtualPage(i);
                    out.write(i + "," + Long.toUnsignedString(id) + "," + pageSize);
                    out.newLine();
                }
            } else {
                out.write("# unetmm page trace: " + trace + "; one virtual page number a line, then its context if not 0");
                out.newLine();
                for (int i = 0; i < trace.length(); i++) {
                    out.write(trace.context(i) == 0 ? Long.toString(trace.virtualPage(i))
                            : trace.virtualPage(i) + " " + trace.context(i));
                    out.newLine();
                }
            }
        }
    }

    /**
     * Reads a trace in the format its name selects.
     *
     * @throws TraceFormatException a line that is not a trace line, or an empty trace
     * @throws UncheckedIOException if the file cannot be read
     * @param file a trace file; {@code .csv} is read as libCacheSim's CSV
     * @return the trace, of virtual page numbers
     */
    public static PageTrace read(Path file) {
        Accesses accesses = new Accesses();
        long line = 0;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            boolean csv = Format.of(file) == Format.LIBCACHESIM_CSV;
            int idColumn = -1;
            String text;
            while ((text = in.readLine()) != null) {
                line++;
                String trimmed = text.strip();
                if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                    continue;
                }
                if (csv) {
                    String[] cells = trimmed.split(",", -1);
                    if (idColumn < 0) {
                        idColumn = headerIdColumn(cells);
                        if (idColumn >= 0) {
                            continue; // a header
                        }
                        idColumn = cells.length >= 2 ? 1 : 0;
                    }
                    if (idColumn >= cells.length) {
                        throw new TraceFormatException(file, line, "has " + cells.length + " column(s), the object id is"
                                + " column " + (idColumn + 1) + ": every row needs the same columns as the first");
                    }
                    long id = parse(file, line, cells[idColumn].strip(), "an object id");
                    accesses.add((int) (id >>> CONTEXT_SHIFT), id & PAGE_MASK);
                } else {
                    int hash = trimmed.indexOf('#');
                    String[] fields = (hash >= 0 ? trimmed.substring(0, hash) : trimmed).strip().split("\\s+");
                    if (fields.length > 2) {
                        throw new TraceFormatException(file, line, "'" + trimmed + "' has " + fields.length
                                + " fields: give a virtual page number, optionally followed by a context id");
                    }
                    long page = parse(file, line, fields[0], "a virtual page number");
                    if (page < 0 || page > PAGE_MASK) {
                        throw new TraceFormatException(file, line, "page " + Long.toUnsignedString(page)
                                + " is not a page of a 64-bit address space (below 2^51): give the address ÷ page size");
                    }
                    long context = fields.length == 2 ? parse(file, line, fields[1], "a context id") : 0;
                    if (context < 0 || context > Integer.MAX_VALUE) {
                        throw new TraceFormatException(file, line, "context " + fields[1]
                                + " is out of range: context ids are 0 to 2^31 - 1");
                    }
                    accesses.add((int) context, page);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read trace " + file + ": " + e.getMessage(), e);
        }
        if (accesses.size == 0) {
            throw new TraceFormatException(file, line, "the trace has no accesses: one virtual page number a line"
                    + " (plain text) or a libCacheSim CSV row per access");
        }
        try {
            return PageTrace.ofVirtualPages(file.getFileName().toString(), Arrays.copyOf(accesses.contexts, accesses.size),
                    Arrays.copyOf(accesses.pages, accesses.size));
        } catch (IllegalArgumentException e) {
            throw new TraceFormatException(file, line, e.getMessage());
        }
    }

    /** The object-id column of a header row, or -1 if the row is data (its cells are numbers). */
    private static int headerIdColumn(String[] cells) {
        boolean header = false;
        for (String cell : cells) {
            if (!cell.strip().matches("0[xX][0-9a-fA-F]+|[0-9]+")) {
                header = true;
            }
        }
        if (!header) {
            return -1;
        }
        for (int i = 0; i < cells.length; i++) {
            String name = cells[i].strip().toLowerCase(Locale.ROOT);
            if (name.equals("obj_id") || name.equals("obj-id") || name.equals("id")) {
                return i;
            }
        }
        return cells.length >= 2 ? 1 : 0;
    }

    private static long parse(Path file, long line, String field, String what) {
        try {
            return field.startsWith("0x") || field.startsWith("0X") ? Long.parseUnsignedLong(field.substring(2), 16)
                    : Long.parseUnsignedLong(field);
        } catch (NumberFormatException e) {
            throw new TraceFormatException(file, line, "'" + field + "' is not " + what
                    + " (a decimal number, or hex with 0x)");
        }
    }

    /** Growable columns of what was read. */
    private static final class Accesses {
        int[] contexts = new int[1024];
        long[] pages = new long[1024];
        int size;

        void add(int context, long page) {
            if (size == pages.length) {
                contexts = Arrays.copyOf(contexts, size * 2);
                pages = Arrays.copyOf(pages, size * 2);
            }
            contexts[size] = context;
            pages[size++] = page;
        }
    }
}
