/** How a membership transition counts for the dunning figures (pure, no Temporal). */
import { dunningStage } from '../activities/projection';

describe('dunning stage of a transition', () => {
  it.each([
    ['active', 'grace_period', 'started'],
    ['trialing', 'grace_period', 'started'],
    ['grace_period', 'past_due', null],
    ['grace_period', 'active', 'recovered'],
    ['past_due', 'active', 'recovered'],
    ['past_due', 'trialing', 'recovered'],
    ['past_due', 'canceled', 'exhausted'],
    ['grace_period', 'canceled', 'exhausted'],
    ['active', 'canceled', null],
    ['none', 'active', null],
  ])('counts %s -> %s as %s', (from, to, stage) => {
    expect(dunningStage(from, to)).toBe(stage);
  });
});
