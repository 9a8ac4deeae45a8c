/**
 * What the simulated model says. Long enough that there is always time to
 * interrupt it, and written like a real answer so that sentence splitting,
 * speech and history behave as they would with a real model.
 */
export const ENGLISH_REPLY = [
  "Here is a longer answer, streamed by the gateway's simulated model so you can try interrupting it at any moment.",
  'Once upon a time, in a harbour town where the fog rolled in every evening, there lived a lighthouse keeper named Mara.',
  'Every night she climbed the one hundred and twelve steps of the tower, polished the great lens, and lit the lamp that guided the fishing boats home.',
  'The townspeople said she never slept, but the truth was simpler: she loved the quiet hours, the hiss of the waves, and the small radio that crackled with voices from ships far away.',
  'One winter night the radio brought a voice she did not recognise, a young sailor whose boat had lost its engine somewhere beyond the northern rocks.',
  'Mara listened carefully, asked him what he could see, and worked out from the sound of the bell buoy that he was drifting towards the shoals.',
  'She turned the lamp so that its beam swept lower across the water, and told him to row towards the dark gap between two flashes, where the channel ran deep and safe.',
  'For an hour they spoke without stopping, about the weather, about his sister who baked bread in the next village, about the stars that appeared whenever the fog thinned.',
  'At last the sailor shouted that he could hear the harbour wall, and a few minutes later the fishermen on the quay pulled his little boat to safety.',
  "In the morning he climbed the tower with a loaf of his sister's bread, still warm, and the two of them ate it on the gallery while the sun burned the fog away.",
  'After that winter the sailor came back every year, and every year he brought bread, and Mara told the story of the night the lighthouse spoke.',
  'If you are reading this far, the gateway has been streaming for a while; press stop, or send a new message, and watch how quickly the reply ends.',
  "Behind the scenes, an interrupt completes the request's cancel subject, the pipeline unsubscribes, and the upstream connection is closed within a millisecond or two.",
  'Nothing more is generated, nothing more is sent, and the usage figure in the final frame tells you exactly how many tokens were produced before the stop.',
].join(' ');

export const CHINESE_REPLY = [
  '这是网关内置的模拟模型给出的一段较长回答，你可以随时打断它。',
  '很久以前，在一个傍晚总会起雾的海港小镇上，住着一位名叫玛拉的灯塔看守人。',
  '每天夜里，她都要爬上塔里的一百一十二级台阶，擦亮巨大的透镜，点燃那盏指引渔船回家的灯。',
  '镇上的人都说她从不睡觉，其实原因很简单：她喜欢夜里的安静，喜欢海浪的声音，也喜欢那台收音机里远方船只传来的说话声。',
  '一个冬夜，收音机里传来一个陌生的声音，一位年轻的水手说他的船在北边礁石外失去了动力。',
  '玛拉仔细地听着，问他能看到什么，又从浮标钟的声音判断出他正漂向浅滩。',
  '她把灯光压低，让光束贴着水面扫过，告诉他朝两次闪光之间的暗处划去，那里的航道又深又安全。',
  '整整一个小时，他们不停地聊天，聊天气，聊他在邻村烤面包的姐姐，也聊雾散时出现的星星。',
  '终于，水手大声喊道他听到了港口的防波堤，几分钟后，码头上的渔民把他的小船拉到了安全的地方。',
  '第二天早上，他带着姐姐烤的还温热的面包爬上灯塔，两个人坐在平台上吃着面包，看着太阳把雾气慢慢驱散。',
  '如果你读到了这里，说明网关已经流式输出了一段时间；按下停止，或者发送一条新消息，看看回答会多快结束。',
  '在幕后，一次打断会完成该请求的取消信号，管道随即退订，上游连接在一两毫秒内被关闭。',
  '不会再生成任何内容，也不会再发送任何内容，最后一帧里的用量数字会准确告诉你打断前生成了多少个词元。',
].join('');
