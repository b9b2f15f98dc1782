package org.unetmm.tlb.trace;

import java.util.Arrays;
import java.util.OptionalDouble;
import java.util.SplittableRandom;

/**
 * A finite, seeded stream of page accesses: access {@code i} touches page {@link #page(int)} of
 * context {@link #context(int)}. Pages are numbered within a context's region of {@link #pages()}
 * pages; {@link TraceRunner} maps them onto real pages of real mmap'd memory, one region per
 * context, and a model run onto page numbers alone. Immutable; the same factory arguments give
 * the same trace on every JVM ({@link SplittableRandom}).
 *
 * <p>The shapes, each with one generator per context, the context of each access drawn uniformly:
 * <ul>
 *   <li>{@link #uniform}: every page equally likely; no locality, the floor of every policy;</li>
 *   <li>{@link #zipf}: page of popularity rank r with probability ∝ 1/r^θ (θ = 0.99 is YCSB's
 *       default skew; Cooper et al., SoCC 2010), ranks scattered over the region by a seeded
 *       permutation so hot pages do not share sets by construction;</li>
 *   <li>{@link #sequential}: a sweep over the whole region in address order, from a seeded start,
 *       wrapping: LRU's worst case once the region exceeds the TLB;</li>
 *   <li>{@link #loop}: a working set of seeded pages visited in a fixed order, again and again:
 *       the loop that fits hits after its first pass, the loop one page too large misses always
 *       under LRU.</li>
 * </ul>
 *
 * <p><b>The static top-C bound.</b> {@link #uniform} and {@link #zipf} draw every access
 * independently from a fixed distribution over (context, page) — the independent reference
 * model. Under it the expected hit rate of any policy that does not know the future is at most
 * the sum of the C largest request probabilities, reached by keeping those C pages for ever
 * (Aho, Denning, Ullman, "Principles of optimal page replacement", JACM 18(1), 1971: A0 is
 * optimal among online policies). Such a trace keeps its generator's probabilities and
 * {@link #staticTopCHitRate} sums them exactly; {@link #sequential}, {@link #loop} and given or
 * recorded traces do not draw independently (or their distribution is unknown), so they have no
 * such bound. OPT, knowing the future, may beat it on a finite trace; no online policy may in
 * expectation.
 */
public final class PageTrace {
    private final String name;
    private final int contexts;
    private final int pages;
    private final int[] contextOf;
    private final int[] pageOf;
    /** Request probabilities of every (context, page), largest first; null if not drawn independently. */
    private final double[] popularity;
    /** Per context, the virtual page number of its page 0 in a recorded trace; null for others. */
    private final long[] basePages;

    private PageTrace(String name, int contexts, int pages, int[] contextOf, int[] pageOf, double[] popularity) {
        this(name, contexts, pages, contextOf, pageOf, popularity, null);
    }

    private PageTrace(String name, int contexts, int pages, int[] contextOf, int[] pageOf, double[] popularity,
                      long[] basePages) {
        this.name = name;
        this.contexts = contexts;
        this.pages = pages;
        this.contextOf = contextOf;
        this.pageOf = pageOf;
        this.popularity = popularity;
        this.basePages = basePages;
    }

    /**
     * A trace of real virtual page numbers (recorded from a TLB, or read from a file). Context ids
     * are renumbered 0, 1, … in increasing order (a fresh TLB hands them out so, so a replay
     * opens the same ids); each context's region starts at its smallest page, and
     * {@link #virtualPage} gives the recorded number back, so a replay maps every page to the
     * set it had. The trace has no top-C bound (its distribution is unknown).
     *
     * @param contexts the context of each access, or {@code null} for one context
     * @throws IllegalArgumentException for a negative context or page, unequal lengths, or a
     *                                  context whose pages span more than 2^31 - 1 pages
     * @param name         what the trace is, for tables and files
     * @param virtualPages the virtual page number of each access, not negative
     * @return the trace; it copies both arrays
     */
    public static PageTrace ofVirtualPages(String name, int[] contexts, long[] virtualPages) {
        if (virtualPages == null || (contexts != null && contexts.length != virtualPages.length)) {
            throw new IllegalArgumentException("a trace needs a page per access and, if given, a context per access"
                    + " (arrays of equal length)");
        }
        int[] ids = contexts == null ? new int[0] : Arrays.stream(contexts).distinct().sorted().toArray();
        if (ids.length > 0 && ids[0] < 0) {
            throw new IllegalArgumentException("context " + ids[0] + " is negative: context ids are numbered from 0");
        }
        int count = Math.max(1, ids.length);
        int[] contextOf = new int[virtualPages.length];
        long[] low = new long[count];
        long[] high = new long[count];
        Arrays.fill(low, Long.MAX_VALUE);
        Arrays.fill(high, -1);
        for (int i = 0; i < virtualPages.length; i++) {
            int c = contexts == null ? 0 : Arrays.binarySearch(ids, contexts[i]);
            long page = virtualPages[i];
            if (page < 0) {
                throw new IllegalArgumentException("access " + i + " has page " + page + ": virtual page numbers are ≥ 0");
            }
            contextOf[i] = c;
            low[c] = Math.min(low[c], page);
            high[c] = Math.max(high[c], page);
        }
        int span = 1;
        for (int c = 0; c < count; c++) {
            if (high[c] < 0) {
                low[c] = 0;
                high[c] = 0;
            }
            if (high[c] - low[c] >= Integer.MAX_VALUE) {
                throw new IllegalArgumentException("context " + (ids.length > 0 ? ids[c] : 0) + " spans pages " + low[c]
                        + " to " + high[c] + ", more than 2^31 - 1 pages: split the trace per address range");
            }
            span = Math.max(span, (int) (high[c] - low[c] + 1));
        }
        int[] pageOf = new int[virtualPages.length];
        for (int i = 0; i < virtualPages.length; i++) {
            pageOf[i] = (int) (virtualPages[i] - low[contextOf[i]]);
        }
        return new PageTrace(name, count, span, contextOf, pageOf, null, low);
    }

    /**
     * A given sequence of accesses (tests, recorded traces); contexts may be {@code null} for one context.
     *
     * @param name     what the trace is, for tables and files
     * @param contexts the context of each access, or {@code null} for one context
     * @param pages    the region page of each access, not negative
     * @return the trace; it copies both arrays
     * @throws IllegalArgumentException for a negative context or page, or unequal lengths
     */
    public static PageTrace of(String name, int[] contexts, int[] pages) {
        if (pages == null || (contexts != null && contexts.length != pages.length)) {
            throw new IllegalArgumentException("a trace needs a page per access and, if given, a context per access"
                    + " (arrays of equal length)");
        }
        int[] ctx = contexts == null ? new int[pages.length] : contexts.clone();
        int maxContext = 0;
        int maxPage = 0;
        for (int i = 0; i < pages.length; i++) {
            if (ctx[i] < 0 || pages[i] < 0) {
                throw new IllegalArgumentException("access " + i + " has context " + ctx[i] + ", page " + pages[i]
                        + ": contexts and pages are numbered from 0");
            }
            maxContext = Math.max(maxContext, ctx[i]);
            maxPage = Math.max(maxPage, pages[i]);
        }
        return new PageTrace(name, maxContext + 1, maxPage + 1, ctx, pages.clone(), null);
    }

    /**
     * Every page of each context's region equally likely.
     *
     * @param contexts how many contexts, positive
     * @param pages    pages in each context's region, positive
     * @param length   how many accesses
     * @param seed     seed of the generator
     * @return the trace, the same for the same arguments
     */
    public static PageTrace uniform(int contexts, int pages, int length, long seed) {
        check(contexts, pages, length);
        SplittableRandom random = new SplittableRandom(seed);
        double[] pmf = new double[pages];
        Arrays.fill(pmf, 1.0 / pages);
        return generate("uniform(pages=" + pages + ")", contexts, pages, length, random,
                (context, r) -> r.nextInt(pages)).withPopularity(pmf);
    }

    /**
     * Page of popularity rank r (1-based) with probability ∝ 1/r^θ; θ = 0 is uniform.
     *
     * @param contexts how many contexts, positive
     * @param pages    pages in each context's region, positive
     * @param theta    the skew θ, 0 or more
     * @param length   how many accesses
     * @param seed     seed of the generator (and of which page gets which rank)
     * @return the trace, the same for the same arguments
     */
    public static PageTrace zipf(int contexts, int pages, double theta, int length, long seed) {
        check(contexts, pages, length);
        if (!(theta >= 0) || Double.isInfinite(theta)) {
            throw new IllegalArgumentException("zipf skew θ must be a finite number ≥ 0, got " + theta
                    + ": 0 is uniform, 0.99 is YCSB's default");
        }
        SplittableRandom random = new SplittableRandom(seed);
        double[] cdf = zipfCdf(pages, theta);
        int[][] rankToPage = new int[contexts][];
        for (int c = 0; c < contexts; c++) {
            rankToPage[c] = permutation(pages, random);
        }
        double[] pmf = new double[pages];
        for (int r = 0; r < pages; r++) {
            pmf[r] = r == 0 ? cdf[0] : cdf[r] - cdf[r - 1];
        }
        return generate(String.format("zipf(θ=%.2f, pages=%d)", theta, pages), contexts, pages, length, random,
                (context, r) -> rankToPage[context][rank(cdf, r.nextDouble())]).withPopularity(pmf);
    }

    /**
     * A wrapping sweep over the whole region in address order, from a seeded start page.
     *
     * @param contexts how many contexts, positive
     * @param pages    pages in each context's region, positive
     * @param length   how many accesses
     * @param seed     seed of the start page
     * @return the trace, the same for the same arguments
     */
    public static PageTrace sequential(int contexts, int pages, int length, long seed) {
        check(contexts, pages, length);
        SplittableRandom random = new SplittableRandom(seed);
        int[] cursor = new int[contexts];
        for (int c = 0; c < contexts; c++) {
            cursor[c] = random.nextInt(pages);
        }
        return generate("sequential(pages=" + pages + ")", contexts, pages, length, random, (context, r) -> {
            int page = cursor[context];
            cursor[context] = page + 1 == pages ? 0 : page + 1;
            return page;
        });
    }

    /**
     * A working set of {@code workingSet} seeded pages of the region, visited in a fixed order, repeatedly.
     *
     * @param contexts   how many contexts, positive
     * @param pages      pages in each context's region, positive
     * @param workingSet pages visited, 1 to {@code pages}
     * @param length     how many accesses
     * @param seed       seed of the choice of pages
     * @return the trace, the same for the same arguments
     */
    public static PageTrace loop(int contexts, int pages, int workingSet, int length, long seed) {
        check(contexts, pages, length);
        if (workingSet < 1 || workingSet > pages) {
            throw new IllegalArgumentException("loop working set must be between 1 and the region's " + pages
                    + " pages, got " + workingSet + ": enlarge the region or shrink the working set");
        }
        SplittableRandom random = new SplittableRandom(seed);
        int[][] order = new int[contexts][];
        int[] cursor = new int[contexts];
        for (int c = 0; c < contexts; c++) {
            order[c] = Arrays.copyOf(permutation(pages, random), workingSet);
        }
        return generate("loop(working set=" + workingSet + ", pages=" + pages + ")", contexts, pages, length, random,
                (context, r) -> {
                    int at = cursor[context];
                    cursor[context] = at + 1 == workingSet ? 0 : at + 1;
                    return order[context][at];
                });
    }

    /** {@return what the trace is, for tables and files} */
    public String name() {
        return name;
    }

    /** {@return contexts the accesses use: 0 to contexts() - 1} */
    public int contexts() {
        return contexts;
    }

    /** {@return pages in each context's region: accesses touch pages 0 to pages() - 1} */
    public int pages() {
        return pages;
    }

    /** {@return how many accesses the trace holds} */
    public int length() {
        return pageOf.length;
    }

    /**
     * {@return the context of an access}
     *
     * @param access the access's index, 0 to {@link #length()} - 1
     */
    public int context(int access) {
        return contextOf[access];
    }

    /**
     * {@return the region page of an access: 0 to {@link #pages()} - 1}
     *
     * @param access the access's index, 0 to {@link #length()} - 1
     */
    public int page(int access) {
        return pageOf[access];
    }

    /**
     * The static top-C bound: the expected hit rate of keeping the {@code capacity} most probable
     * (context, page) pairs resident for ever, summed exactly from the generator's distribution;
     * empty for a trace not drawn independently from a known one (sequential, loop, given,
     * recorded). See the class comment for why no online policy beats it in expectation.
     *
     * @param capacity entries kept resident, positive
     * @return the bound, or empty where the trace has none
     */
    public OptionalDouble staticTopCHitRate(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("the top-C bound needs a capacity of at least one entry, got " + capacity);
        }
        if (popularity == null) {
            return OptionalDouble.empty();
        }
        double sum = 0;
        for (int i = 0, n = Math.min(capacity, popularity.length); i < n; i++) {
            sum += popularity[i];
        }
        return OptionalDouble.of(Math.min(1.0, sum));
    }

    /**
     * {@return whether the pages are real virtual page numbers ({@link #ofVirtualPages}) rather than region offsets}
     */
    public boolean isRecorded() {
        return basePages != null;
    }

    /**
     * {@return the virtual page number of an access: as recorded for a recorded trace, else its region page}
     *
     * @param access the access's index, 0 to {@link #length()} - 1
     */
    public long virtualPage(int access) {
        return basePages == null ? pageOf[access] : basePages[contextOf[access]] + pageOf[access];
    }

    /**
     * {@return (context, page) of an access as one number, distinct per pair: the key models and OPT use}
     *
     * @param access the access's index, 0 to {@link #length()} - 1
     */
    public long key(int access) {
        return ((long) contextOf[access] << 32) | pageOf[access];
    }

    /** {@return distinct (context, page) pairs the trace touches: its footprint} */
    public int distinctPages() {
        long[] keys = new long[length()];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = key(i);
        }
        return (int) Arrays.stream(keys).distinct().count();
    }

    @Override
    public String toString() {
        return name + " × " + length() + " accesses" + (contexts > 1 ? ", " + contexts + " contexts" : "");
    }

    // ------------------------------------------------------------------ generation

    private interface PageSource {
        int next(int context, SplittableRandom random);
    }

    private static PageTrace generate(String name, int contexts, int pages, int length, SplittableRandom random,
                                      PageSource source) {
        int[] contextOf = new int[length];
        int[] pageOf = new int[length];
        for (int i = 0; i < length; i++) {
            int context = contexts == 1 ? 0 : random.nextInt(contexts);
            contextOf[i] = context;
            pageOf[i] = source.next(context, random);
        }
        return new PageTrace(name, contexts, pages, contextOf, pageOf, null);
    }

    /**
     * This trace with its generator's distribution: {@code pmf[i]}, non-increasing, is the chance
     * of the i-th most popular page of a context, contexts equally likely.
     */
    private PageTrace withPopularity(double[] pmf) {
        double[] all = new double[pmf.length * contexts];
        for (int i = 0; i < all.length; i++) {
            all[i] = pmf[i / contexts] / contexts;
        }
        return new PageTrace(name, contexts, pages, contextOf, pageOf, all);
    }

    private static void check(int contexts, int pages, int length) {
        if (contexts < 1) {
            throw new IllegalArgumentException("a trace needs at least one context, got " + contexts);
        }
        if (pages < 1) {
            throw new IllegalArgumentException("a trace's region needs at least one page, got " + pages);
        }
        if (length < 0) {
            throw new IllegalArgumentException("trace length must not be negative, got " + length);
        }
    }

    /** Fisher–Yates shuffle of 0..n-1. */
    private static int[] permutation(int n, SplittableRandom random) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** Cumulative probabilities of ranks 0..n-1 (rank r+1 weighs 1/(r+1)^θ), the last exactly 1. */
    private static double[] zipfCdf(int n, double theta) {
        double[] cdf = new double[n];
        double sum = 0;
        for (int r = 0; r < n; r++) {
            sum += Math.pow(r + 1, -theta);
            cdf[r] = sum;
        }
        for (int r = 0; r < n; r++) {
            cdf[r] /= sum;
        }
        cdf[n - 1] = 1.0;
        return cdf;
    }

    /** The first rank whose cumulative probability exceeds u (inverse transform sampling). */
    private static int rank(double[] cdf, double u) {
        int at = Arrays.binarySearch(cdf, u);
        int rank = at >= 0 ? at + 1 : -at - 1;
        return Math.min(rank, cdf.length - 1);
    }
}
