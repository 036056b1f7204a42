/* Promela model of the SPSC ring protocol (include/ringlet/spsc_ring.h).
 *
 * One producer and one consumer share `head`, `tail` and N slots; each side
 * keeps its own cursor and a cached copy of the other's, refreshed only when
 * the ring looks full (producer) or empty (consumer), exactly as the C++
 * endpoints do. Every message is two words written and read in separate
 * steps, so a torn read (a slot overwritten while being read) is visible.
 * Spin explores every interleaving (sequentially consistent: the weak-memory
 * side - acquire/release - is what the ThreadSanitizer test checks).
 *
 * Checked: every message arrives exactly once, in order, untorn; the
 * producer never writes a slot the consumer is still reading; the shared
 * counters never claim more than N messages in flight; both sides finish.
 *
 * -DBUG_FULL_CHECK weakens the producer's full test by one (it may then
 * overwrite an unread slot); the ctest run requires spin to find that.
 */
#define N 2          /* slots (a power of two, as in the ring) */
#define M 7          /* messages sent: several wraps of the ring */

byte head = 0;       /* messages published (producer writes) */
byte tail = 0;       /* messages consumed (consumer writes) */
byte slot_a[N];
byte slot_b[N];
bool reading[N];     /* consumer is between its two reads of this slot */
byte received = 0;

active proctype producer() {
    byte my_head = 0;
    byte cached_tail = 0;
    byte s;
    do
    :: my_head == M -> break
    :: else ->
#ifdef BUG_FULL_CHECK
        if
        :: my_head - cached_tail > N -> cached_tail = tail   /* off by one */
        :: else -> skip
        fi;
        (my_head - cached_tail <= N);
#else
        if
        :: my_head - cached_tail >= N -> cached_tail = tail   /* refresh: acquire load */
        :: else -> skip
        fi;
        /* Still full: Error::Full; the caller retries later (modelled as waiting). */
        if
        :: my_head - cached_tail >= N -> cached_tail = tail; goto retry
        :: else -> skip
        fi;
#endif
        s = my_head % N;
        assert(!reading[s]);          /* never overwrite a slot being read */
        slot_a[s] = my_head;          /* plain stores of the message */
        slot_b[s] = my_head;
        my_head++;
        head = my_head;               /* publish: release store */
        assert(head - tail <= N);
retry:  skip
    od
}

active proctype consumer() {
    byte my_tail = 0;
    byte cached_head = 0;
    byte s;
    byte a;
    byte b;
    do
    :: my_tail == M -> break
    :: else ->
        if
        :: cached_head == my_tail -> cached_head = head   /* refresh: acquire load */
        :: else -> skip
        fi;
        if
        :: cached_head == my_tail -> skip                 /* Error::Empty: try again */
        :: else ->
            assert(cached_head - my_tail <= N);           /* the validity check in try_pop */
            s = my_tail % N;
            reading[s] = true;
            a = slot_a[s];
            b = slot_b[s];
            reading[s] = false;
            assert(a == b);                               /* untorn */
            assert(a == my_tail);                         /* in order, exactly once */
            my_tail++;
            received++;
            tail = my_tail                                /* free the slot: release store */
        fi
    od
}

/* Both sides finish and everything sent was received. */
ltl all_delivered { <> (received == M) }
