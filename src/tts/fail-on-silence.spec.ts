import { TestScheduler } from 'rxjs/testing';
import { failOnSilence } from './fail-on-silence.js';

const SILENT = new Error('silent');

describe('failOnSilence', () => {
  let scheduler: TestScheduler;
  beforeEach(() => (scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected))));

  /** `paused` in marbles: f = flowing, t = paused, emitted at subscription like the queue's BehaviorSubject. */
  const run = (source: string, paused: string, expected: string, values: Record<string, string> = {}) =>
    scheduler.run(({ cold, expectObservable }) => {
      const paused$ = cold(paused, { f: false, t: true });
      expectObservable(cold(source, values).pipe(failOnSilence({ ms: 10, paused$, error: () => SILENT }))).toBe(expected, values, SILENT);
    });

  it('fails a source that says nothing', () => run('-', 'f', '10ms #'));

  it('starts the clock afresh on every value', () => run('5ms a 9ms b', 'f', '5ms a 9ms b 9ms #', { a: 'a', b: 'b' }));

  it('stops the clock while paused and restarts it in full on resume', () => run('-', 'f 4ms t 19ms f', '35ms #'));

  it('does not start the clock for a value that arrives while paused', () => run('10ms a', 't 19ms f', '10ms a 19ms #', { a: 'a' }));

  it('never fails while paused', () => run('-', 't', '-'));

  it('lets a source end in time', () => run('5ms a 2ms |', 'f', '5ms a 2ms |', { a: 'a' }));

  it('passes the source’s own error on', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const failed = new Error('engine');
      expectObservable(
        cold('3ms #', {}, failed).pipe(failOnSilence({ ms: 10, paused$: cold('f', { f: false }), error: () => SILENT })),
      ).toBe('3ms #', {}, failed);
    });
  });

  it('unsubscribes the source when it fails', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-');
      expectObservable(source.pipe(failOnSilence({ ms: 10, paused$: cold('f', { f: false }), error: () => SILENT }))).toBe(
        '10ms #',
        {},
        SILENT,
      );
      expectSubscriptions(source.subscriptions).toBe('^ 9ms !');
    });
  });
});
